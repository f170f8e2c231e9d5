/* Shared definitions of the motion-capture demo: one object per frame. */
#ifndef MOCAP_DEMO_H
#define MOCAP_DEMO_H

#include <stdint.h>
#include <string.h>
#include <time.h>

#define MOCAP_NAMESPACE "demo/mocap"
#define MOCAP_TRACK "skeleton"
#define MOCAP_CATALOG ".catalog"
#define MOCAP_JOINTS 24

/* A frame as sent: little-endian on the machines this demo runs on. */
typedef struct {
    uint64_t sent_ns;  /* CLOCK_REALTIME when published */
    uint32_t seq;      /* frame number, from 0 */
    uint32_t joints;   /* MOCAP_JOINTS */
    float pos[MOCAP_JOINTS][3];
} mocap_frame;

static inline uint64_t mocap_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
