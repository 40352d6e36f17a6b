/* placeholder until the module lands; replaced by its owner */
int skewd_engine_placeholder(void);
int skewd_engine_placeholder(void) { return 0; }
