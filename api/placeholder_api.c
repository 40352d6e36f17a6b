/* placeholder */
int skewd_api_placeholder(void);
int skewd_api_placeholder(void) { return 0; }
