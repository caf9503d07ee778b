/*
 * The process generation: 0 in the first process, bumped in each child
 * after fork() (by client.c's fork handler). Objects remember theirs, to
 * know when they belong to a parent.
 */
#ifndef SALVO_FORKGEN_H
#define SALVO_FORKGEN_H

unsigned salvo__fork_gen(void);
void salvo__fork_gen_bump(void);

#endif /* SALVO_FORKGEN_H */
