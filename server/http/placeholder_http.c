/* placeholder until the module lands; replaced by its owner */
int skewd_http_placeholder(void);
int skewd_http_placeholder(void) { return 0; }
