/* The DNS servers of salvo_config.dns_servers, checked. */
#ifndef SALVO_SERVERS_H
#define SALVO_SERVERS_H

/* The first entry of a dns_servers list that is not ADDR[:PORT], as a
 * message (allocated), or NULL when every entry is one (list NULL too). */
char *salvo__servers_problem(const char *list);

#endif /* SALVO_SERVERS_H */
