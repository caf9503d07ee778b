/* The process generation. */
#include "forkgen.h"

/* The one piece of process-wide state besides the default client: bumped
 * by client.c's fork handler in the child, read by every object that must
 * know whether it belongs to a parent. */
static unsigned fork_generation;

unsigned salvo__fork_gen(void) { return fork_generation; }

void salvo__fork_gen_bump(void) { fork_generation++; }
