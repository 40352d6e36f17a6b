/* placeholder until the module lands; replaced by its owner */
int skewd_store_placeholder(void);
int skewd_store_placeholder(void) { return 0; }
