/* placeholder until the module lands; replaced by its owner */
int skewd_collect_placeholder(void);
int skewd_collect_placeholder(void) { return 0; }
