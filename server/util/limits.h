/*
 * limits.h - every size, count and time limit of skewd, in one place.
 *
 * Anything read from a cluster, an upload, a config file or a request is
 * bounded by one of these. A limit that users may tune is also a config key
 * (see docs/configuration.md); the value here is then its default.
 */
#ifndef SKEWD_UTIL_LIMITS_H
#define SKEWD_UTIL_LIMITS_H

/* HTTP server (CivetWeb). */
#define HTTP_MAX_HEADER_BYTES      (16 * 1024)        /* request line + headers */
#define HTTP_MAX_BODY_BYTES        (8 * 1024 * 1024)  /* any request body, chunked too */
#define HTTP_REQUEST_TIMEOUT_MS    30000              /* per network read/write */
#define HTTP_KEEPALIVE_TIMEOUT_MS  5000
#define HTTP_DEFAULT_THREADS       16
#define HTTP_MAX_THREADS           256
#define HTTP_MAX_REQUEST_ID        64                 /* X-Request-Id we echo */
#define HTTP_MAX_PATH_SEGMENTS     16
#define HTTP_MAX_STATIC_BYTES      (8 * 1024 * 1024)  /* one dashboard file */
#define HTTP_MAX_RESPONSE_BYTES    (64 * 1024 * 1024) /* one non-JSON response body we build */
#define HTTP_METRICS_MAX_SERIES    1024               /* route x method x status counters */
#define HTTP_METRICS_MAX_ROUTES    256                /* routes with a duration histogram */
#define HTTP_DRAIN_MAX_BYTES       (8 * 1024 * 1024)  /* unread body discarded after an early answer */
#define HTTP_DRAIN_MAX_MS          2000               /* time spent discarding it */
#define HTTP_MAX_JSON_DEPTH        64                 /* nesting of a JSON request body (100 KiB worker stacks) */
#define HTTP_HANDLER_STACK_BYTES   (8 * 1024 * 1024)  /* stack of the thread that runs auth + handlers */

/* Documents: YAML / JSON inputs to the diff, uploads, snapshots. */
#define DOC_MAX_BYTES              (64 * 1024 * 1024) /* one input file */
#define DOC_MAX_DEPTH              128                /* nesting of maps/lists */
#define DOC_MAX_NODES              (8 * 1024 * 1024)  /* scalars+maps+lists after alias expansion (~DOC_MAX_BYTES / 8) */
#define DOC_MAX_ALIAS_EXPANSION    10000              /* alias uses per document (billion laughs) */
#define DOC_MAX_DOCUMENTS          100000             /* documents in one multi-doc YAML stream */
#define DOC_MAX_SCALAR_BYTES       (4 * 1024 * 1024)
#define DOC_MAX_ALIAS_NODES        (256 * 1024)       /* nodes copied by aliases per document */

/* Config file. */
#define CONFIG_MAX_BYTES           (1024 * 1024)
#define API_RULES_MAX_BYTES        (1024 * 1024)      /* a diff or verdict rules file */

/* Engine argument parsing. */
#define ENGINE_MAX_ARGS            4096
#define ENGINE_MAX_ARG_BYTES       (256 * 1024)       /* one sh -c string */

/* Diff. */
#define DIFF_MAX_CHANGES           100000
#define DIFF_MAX_RULES             4096
#define DIFF_MAX_PATH_BYTES        4096               /* one change path */
#define DIFF_MAX_RULES_BYTES       (1024 * 1024)      /* a rules or --ignore file */
#define DIFF_SUMMARY_VALUE_CHARS   80                 /* a value quoted in a one-line summary */
#define DIFF_MAX_SUMMARY_BYTES     512                /* one summary line */
#define DIFF_GUESS_MIN_ITEMS       4                  /* dyff: guess a list key only above 3 items */

/* Rendering of diffs (server/render/). */
#define RENDER_MAX_BYTES           (256 * 1024 * 1024) /* one rendering, or one side as YAML for a patch */
#define RENDER_MAX_VALUE_CHARS     400                /* a before/after value in text and Markdown; longer is cut */
#define RENDER_MAX_LINES           (16 * 1024 * 1024) /* lines of one side of a unified diff */
#define RENDER_PATCH_CONTEXT       3                  /* context lines of the patch format */
#define RENDER_DIFF_MIN_COST       256                /* Myers edit cost before the furthest-point fallback */
#define RENDER_REPORT_MAX_CHANGES  10                 /* changes listed in a report; the rest are counted */
#define RENDER_SLACK_MAX_BLOCKS    50                 /* Slack: blocks in one message */
#define RENDER_SLACK_MAX_TEXT      3000               /* Slack: characters of one section text */
#define RENDER_SLACK_MAX_HEADER    150                /* Slack: characters of a header's plain text */
#define RENDER_SLACK_MAX_FALLBACK  1000               /* Slack: the notification text beside the blocks */

/* Metrics: one Prometheus text / OpenMetrics exposition (server/metrics/). */
#define METRICS_MAX_BYTES          (16 * 1024 * 1024) /* one scrape */
#define METRICS_MAX_LINE_BYTES     (64 * 1024)        /* one line, HELP text included */
#define METRICS_MAX_SERIES         100000             /* samples (name + label set) in one scrape */
#define METRICS_MAX_FAMILIES       100000             /* metric families in one scrape */
#define METRICS_MAX_LABELS         64                 /* labels of one sample */
#define METRICS_MAX_NAME_BYTES     1024               /* a metric or label name */
#define METRICS_MAX_LABEL_VALUE_BYTES (16 * 1024)     /* one label value, unescaped */
#define METRICS_MAX_GPUS           1024               /* GPUs reported in one extraction */
#define METRICS_NVSMI_MAX_BYTES    (4 * 1024 * 1024)  /* one nvidia-smi text a person attaches */
#define METRICS_NVSMI_MAX_GPUS     64                 /* GPUs in one nvidia-smi text */
#define METRICS_NVSMI_MAX_FIELDS   1024               /* columns of one --query-gpu CSV line */
#define METRICS_VERDICT_MAX_NAMES  5                  /* settings named per category in a reason */

/* Store. */
#define STORE_BUSY_TIMEOUT_MS      5000
#define STORE_MAX_MIGRATIONS       1000               /* NNNN_name.sql files */
#define STORE_MAX_MIGRATION_BYTES  (1024 * 1024)      /* one migration file */
#define STORE_MAX_CONNECTIONS      1024               /* per-thread connections of one store */
#define STORE_WAL_SIZE_LIMIT       67108864           /* 64 MiB; -wal is truncated to it (a plain number: it goes into SQL text) */
#define STORE_CACHE_KIB            256                /* SQLite page cache of each connection (one per thread; a plain number: SQL text) */
#define STORE_MAX_NAMESPACE        253                /* a Kubernetes namespace (DNS-1123 subdomain) */
#define STORE_MAX_KIND             31                 /* a workload kind, e.g. "statefulset" */
#define STORE_MAX_OBJECT_NAME      253                /* a workload's name */
#define STORE_MAX_PAGE             1000               /* rows in one page of snapshots or evidence */
#define STORE_MAX_EVIDENCE_BYTES   (16 * 1024 * 1024) /* the volatile evidence of one pull */
#define STORE_MAX_BASELINE_NOTE    1024               /* the note of a baseline */

/* Auth. */
#define TOKEN_MAX_NAME             64
#define TOKEN_SECRET_BYTES         32                 /* random bytes in a new API token */
#define TOKEN_MAX_PRESENTED        512                /* longest bearer token looked up at all */
#define TOKEN_ID_BYTES             8                  /* random bytes of the public token id */
#define TOKEN_TOUCH_INTERVAL_S     60                 /* last_used_at is written at most this often */

/* Sealed credentials (server/seal/). */
#define SEAL_MAX_PLAIN_BYTES       (1024 * 1024)      /* one value to seal: a token, or a client cert + key */
#define SEAL_MAX_AAD_BYTES         1024               /* the label a sealed value is bound to */

/* Kubernetes API client (server/kube/). */
#define KUBE_CONNECT_TIMEOUT_MS    10000              /* TCP + TLS handshake of one connection */
#define KUBE_REQUEST_TIMEOUT_MS    30000              /* one whole request, first byte to last */
#define KUBE_MAX_RESPONSE_BYTES    (32 * 1024 * 1024) /* one answer, after gzip decoding */
#define KUBE_MAX_PARALLEL          8                  /* requests in flight per batch */
#define KUBE_MAX_PARALLEL_LIMIT    64                 /* the most a caller may ask for */
#define KUBE_MAX_BATCH             4096               /* requests in one batch */
#define KUBE_MAX_KUBECONFIG_BYTES  (1024 * 1024)      /* one kubeconfig upload */
#define KUBE_MAX_TOKEN_BYTES       16384              /* a bearer token, or a token file */
#define KUBE_MAX_PEM_BYTES         (1024 * 1024)      /* a CA bundle, client certificate or key */
#define KUBE_MAX_URL_BYTES         2048               /* an API server URL */
#define KUBE_MAX_PATH_BYTES        8192               /* a request path with its query */
#define KUBE_MAX_JSON_DEPTH        128                /* nesting of an answer (jansson recurses); as DOC_MAX_DEPTH */
#define KUBE_MAX_ERROR_BODY_BYTES  (64 * 1024)        /* the body of a non-2xx answer that is read */
#define KUBE_MAX_HEADER_BYTES      (256 * 1024)       /* all header lines of one answer */
#define KUBE_MAX_STATUS_CHARS      300                /* an API server's Status message quoted in an error */
#define KUBE_LOW_SPEED_BYTES       16                 /* slower than this many bytes/s ... */
#define KUBE_LOW_SPEED_TIME_S      15                 /* ... for this long ends a request */
#define KUBE_POLL_MS               1000               /* longest wait in curl_multi_poll() */

/* REST handlers (api/). */
#define API_MAX_CLUSTER_NAMESPACES 256                /* namespaces one cluster may watch */
#define API_MAX_LABEL_SELECTOR     4096               /* a cluster's label selector */
#define API_MAX_TOKEN_FILE_PATH    4096               /* auth.token_file */
#define API_SNAPSHOTS_DEFAULT_LIMIT 50                /* snapshots in one page of history */
#define API_SNAPSHOTS_MAX_LIMIT    500
#define API_VERDICT_WINDOW_S       600                /* evidence of a snapshot's last seconds read for its figures */
#define API_VERDICT_MAX_ROWS       100                /* evidence rows read for one side of a verdict */
#define API_DRIFT_CACHE            256                /* (baseline, latest) drift summaries kept in memory */
#define API_BASELINES_MAX_LIMIT    500                /* baselines in one page of history */
#define API_METRICS_MAX_WINDOW_S   (30 * 86400)       /* GET .../metrics?window= at most 30 days */
#define API_METRICS_MAX_POINTS     1000               /* evidence rows in one GET .../metrics */

/* Config keys that are numbers: the accepted ranges. */
#define CONFIG_MAX_BODY_BYTES      (1024L * 1024 * 1024)
#define CONFIG_MIN_TIMEOUT_MS      100
#define CONFIG_MAX_TIMEOUT_MS      600000
#define CONFIG_DEFAULT_COLLECT_INTERVAL_S 300         /* collect_interval_s */
#define CONFIG_MAX_COLLECT_INTERVAL_S 86400
#define CONFIG_DEFAULT_HISTORY_DAYS 30                /* history_days */
#define CONFIG_MAX_HISTORY_DAYS    36500
#define CONFIG_MAX_AUTO_PROMOTE_S  (30 * 86400)       /* auto_promote_after_s */

/* skewd demo: each state is pulled a few times at start so the charts have a history,
 * then the collector polls it on its own. */
#define DEMO_PULLS_PER_STATE       3
#define DEMO_PULL_SPACING_MS       1000
#define DEMO_COLLECT_INTERVAL_S    15

/* Simulated Kubernetes API server (server/kubesim/, tests and skewd demo). */
#define KUBESIM_DEFAULT_THREADS    32                 /* CivetWeb workers; each hung request holds one */
#define KUBESIM_MAX_FAULTS         32                 /* path prefixes with a fault at once */
#define KUBESIM_MAX_USERS          64
#define KUBESIM_MAX_STATE_FILES    256                /* YAML files in one state folder */
#define KUBESIM_MAX_OBJECTS        10000              /* objects in one state */
#define KUBESIM_MAX_SELECTOR_REQS  32                 /* requirements in one label or field selector */
#define KUBESIM_MAX_SELECTOR_VALS  32                 /* values of one in/notin requirement */
#define KUBESIM_MAX_QUERY_VALUE    4096               /* one decoded query parameter */
#define KUBESIM_MAX_FILE_BYTES     (16 * 1024 * 1024) /* one log or pod-proxy file */
#define KUBESIM_MAX_RESPONSE_BYTES (256 * 1024 * 1024) /* one response built in memory */
#define KUBESIM_MAX_BODY_BYTES     (1024 * 1024)      /* one request body (access reviews) */
#define KUBESIM_HANG_POLL_MS       20                 /* how often a hung request checks for stop */
#define KUBESIM_HUGE_MAX_MIB       1024               /* largest huge-body fault */
#define KUBESIM_CERT_DAYS          365                /* validity of the generated certificates */
#define KUBESIM_MAX_CN             64                 /* a client certificate CN (user name) */

/* Collector (server/collect/). */
#define COLLECT_EVENT_WINDOW_S     7200               /* events and logs of the last 2 hours */
#define COLLECT_LOG_MAX_BYTES      (256 * 1024)       /* one container's log read per pull (limitBytes) */
#define COLLECT_LOG_MAX_LINES      200                /* matching log lines kept per container */
#define COLLECT_LOG_LINE_MAX       1024               /* one kept log line; longer is cut */
#define COLLECT_MAX_EVENTS         200                /* events kept per target */
#define COLLECT_MAX_PODS           1000               /* pods of one workload */
#define COLLECT_MAX_TARGETS        1000               /* workloads of one cluster */
#define COLLECT_MAX_NAME_ROOM      320                /* a synthetic pod name: workload name + "-pod-N" */
#define COLLECT_MAX_PATH           4096               /* one API path with its query */
#define COLLECT_MAX_SELECTOR       2048               /* a label selector as a query value */
#define COLLECT_MODELS_MAX_BYTES   (1024 * 1024)      /* one /v1/models answer */
#define COLLECT_LIST_MAX_BYTES     (64 * 1024 * 1024) /* one list answer */
#define COLLECT_WORKERS            4                  /* clusters pulled at once by the scheduler */
#define COLLECT_DEFAULT_TIMEOUT_MS 10000              /* per request, when the config gives none */
#define COLLECT_MAX_CLUSTERS       1024               /* clusters the scheduler looks at per round */
#define COLLECT_WINDOW_MAX_SCRAPES 256                /* previous scrapes kept in memory for windows */
#define COLLECT_WINDOW_MAX_AGE_S   3600               /* a previous scrape older than this makes no window */
#define COLLECT_MAX_DCGM_PODS      64                 /* DCGM exporter pods scraped per target */
#define COLLECT_DCGM_DEFAULT_PORT  9400               /* dcgm-exporter's port when its pod declares none */
#define PROM_MAX_QUERY             8192               /* one PromQL query, pod selector included */
#define PROM_MAX_RESPONSE_BYTES    (8 * 1024 * 1024)  /* one Prometheus answer */

/* Evidence bundles and their redaction (server/bundle/). */
#define BUNDLE_MAX_BYTES           (64 * 1024 * 1024) /* files of one bundle before compression; logs, then evidence cut first */
#define BUNDLE_ID_BYTES            16                 /* random bytes of a bundle id (128 bits) */
#define BUNDLE_ID_CHARS            26                 /* the id in lower-case base32, no padding */
#define BUNDLE_MAX_PODS_LISTED     64                 /* pods named in SUMMARY.md (all are in bundle.json) */
#define BUNDLE_MAX_ENV_LISTED      256                /* env entries per container in SUMMARY.md */
#define REDACT_MAX_RULES           256                /* text rules in the rules file */
#define REDACT_MAX_LIST            1024               /* entries of one names list */
#define REDACT_MAX_NAME_BYTES      256                /* a name checked by the names rules; longer is cut */
#define REDACT_MAX_POINTER_BYTES   4096               /* a JSON pointer in a redaction record; longer is cut */
#define REDACT_MAX_TEXT_BYTES      (64 * 1024 * 1024) /* one text redacted (after tokens replace values) */
#define REDACT_MAX_VALUES          100000             /* distinct secrets tokenised in one bundle */
#define REDACT_MAX_RECORDS         100000             /* redaction records kept; more are counted */
#define REDACT_MAX_GROUPS          10                 /* capture groups of one text rule */
#define REDACT_MIN_KNOWN_BYTES     6                  /* a learnt secret value matched literally in text */

/* Bundle rows, webhooks and notifications (server/store/, api/, server/notify/). */
#define STORE_MAX_BUNDLE_ID        64                 /* a bundle id as stored */
#define STORE_MAX_TARGET_REF       640                /* "cluster/namespace/kind/name" */
#define STORE_MAX_BUNDLE_FILE      128                /* a bundle's file name under data_dir/bundles */
#define STORE_MAX_URL_DISPLAY      256                /* the scheme and host shown for a webhook */
#define STORE_MAX_WEBHOOK_ERROR    512                /* the last delivery error kept on a webhook */
#define STORE_MAX_DRIFT_KEY        256                /* target + baseline + snapshot + severity */
#define API_BUNDLES_DEFAULT_LIMIT  50                 /* bundles in one page */
#define API_BUNDLES_MAX_LIMIT      500
#define API_MAX_WEBHOOKS           100                /* webhooks one install may have */
#define WEBHOOK_MAX_URL            2048               /* a webhook URL */
#define WEBHOOK_MAX_SECRET         256                /* a webhook's signing secret */
#define NOTIFY_QUEUE_MAX           1024               /* changed snapshots waiting for the drift check */
#define NOTIFY_MAX_ATTEMPTS        5                  /* tries of one delivery */
#define NOTIFY_BACKOFF_BASE_MS     500                /* first retry delay; doubles each try */
#define NOTIFY_BACKOFF_MAX_MS      60000              /* longest retry delay */
#define NOTIFY_TIMEOUT_MS          10000              /* one delivery, connect to last byte */
#define NOTIFY_CONNECT_TIMEOUT_MS  5000
#define NOTIFY_MAX_ANSWER_BYTES    (64 * 1024)        /* answer body read from a receiver */
#define NOTIFY_MAX_CHANGES         10                 /* changes listed in one message */
#define BUNDLE_DEFAULT_RETENTION_DAYS 90              /* bundle_retention_days when not set */

#endif
