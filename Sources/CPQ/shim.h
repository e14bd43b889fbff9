// PostgreSQL's client library (Debian libpq-dev): the shared review store.
#include <libpq-fe.h>
