/* placeholder until the module lands; replaced by its owner */
int skewd_doc_placeholder(void);
int skewd_doc_placeholder(void) { return 0; }
