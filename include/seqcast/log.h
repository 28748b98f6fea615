/*
 * log.h - logging to stderr: "seqcastd[ID]: LEVEL: message".
 */
#ifndef SEQCAST_LOG_H
#define SEQCAST_LOG_H

enum sc_log_level { SC_LOG_ERROR = 0, SC_LOG_WARN, SC_LOG_INFO, SC_LOG_DEBUG };

void sc_log_init(const char *prog, int id, int level);
void sc_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define sc_warn(...)  sc_log(SC_LOG_WARN, __VA_ARGS__)
#define sc_info(...)  sc_log(SC_LOG_INFO, __VA_ARGS__)
#define sc_debug(...) sc_log(SC_LOG_DEBUG, __VA_ARGS__)

#endif
