/* placeholder until the module lands; replaced by its owner */
int skewd_config_placeholder(void);
int skewd_config_placeholder(void) { return 0; }
