/*
 * context.h - which Docker engine is the source: the Docker CLI's global
 * flags and its resolution order (--host, --context, DOCKER_HOST,
 * DOCKER_CONTEXT, currentContext in config.json, the default socket),
 * read from the same config directory and context store the CLI uses.
 */
#ifndef DM_CONTEXT_H
#define DM_CONTEXT_H

#include "opt.h"

/* The CLI's global flags, as the CLI passes them in front of "migrate". */
struct globalopts {
	const char *config_dir;	/* --config */
	const char *context;	/* -c, --context */
	int debug;		/* -D, --debug */
	struct strlist hosts;	/* -H, --host */
	const char *log_level;	/* -l, --log-level */
	int tls;		/* --tls */
	int tlsverify;		/* --tlsverify */
	int tlsverify_set;	/* --tlsverify given explicitly */
	const char *tlscacert, *tlscert, *tlskey;
};

/* The process environment that the resolution reads, named. */
struct docker_env {
	const char *docker_host;
	const char *docker_context;
	const char *docker_config;
	const char *docker_tls_verify;
	const char *docker_cert_path;
	const char *home;
};
void docker_env_from_process(struct docker_env *env);

/* A resolved engine address. */
struct endpoint {
	char *context;		/* "default" or the context's name */
	char *host;		/* unix:///..., tcp://h:p, ssh://[u@]h[:p] */
	int tls;		/* speak TLS (tcp only) */
	int tls_verify;		/* check the server's certificate */
	char *ca, *cert, *key;	/* PEM files, NULL when absent */
};
void endpoint_release(struct endpoint *ep);

/* The config directory: --config, DOCKER_CONFIG, ~/.docker. */
char *docker_config_dir(const struct globalopts *g, const struct docker_env *env);

/* Resolve the source engine as the CLI would; -1 and dm_error() on error. */
int endpoint_resolve(const struct globalopts *g, const struct docker_env *env,
		     struct endpoint *ep);

/* Which context name the CLI would use (no I/O on the store). */
char *context_name_resolve(const struct globalopts *g,
			   const struct docker_env *env);

/* Normalize a -H / DOCKER_HOST value the way the CLI's ParseHost does. */
char *docker_host_normalize(const char *host, int tls);

/* sha256 hex of a string: the context store's directory names. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
