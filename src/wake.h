/*
 * Wake-ups through an eventfd (the engine's command queue, a block's
 * ready descriptor, a stream's): signal makes it readable until drained.
 */
#ifndef SALVO_WAKE_H
#define SALVO_WAKE_H

void salvo__wake_signal(int fd);
void salvo__wake_drain(int fd);

#endif /* SALVO_WAKE_H */
