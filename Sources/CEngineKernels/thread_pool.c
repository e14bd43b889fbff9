// The engine's worker threads. A forward pass runs ~130 parallel regions of 50-500 us each; waking a sleeping
// thread for every one (what DispatchQueue.concurrentPerform does) cost more than a quarter of the second core.
// Here workers spin for a short while after each region, so the next one starts within a cache-line round trip,
// and only then sleep on a condition variable. One region at a time: a call that finds the pool busy (another
// caller thread, or a region started from inside a region) runs its chunks itself.
#include "CEngineKernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FV_PAUSE() _mm_pause()
#else
#define FV_PAUSE() ((void)0)
#endif

enum { FV_MAX_THREADS = 64, FV_SPIN_ROUNDS = 50000 };  // about 1.3 ms of pause instructions on this CPU

static pthread_mutex_t pool_busy = PTHREAD_MUTEX_INITIALIZER;   // held by the thread running a region
static pthread_mutex_t pool_sleep = PTHREAD_MUTEX_INITIALIZER;  // guards the condition variable
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static int pool_started;        // workers created (under pool_busy)
static int pool_workers;        // worker threads alive
static atomic_long generation;  // bumped for each region
static atomic_long finished[FV_MAX_THREADS];  // the last region each worker is done with
static atomic_long next_chunk, done_chunks;
static long region_chunks;
static fv_task_fn region_fn;
static void *region_ctx;
// Chunk i of a region goes first to participant i (the caller is 0, worker k is k + 1): the engine splits
// consecutive ops the same way, so each core then reads the rows it wrote itself. On a 2-vCPU VM, lines the other
// core wrote last took 1.6–1.7× as long to read or write, and first come, first served put chunk 0 on the worker in
// 14–55 % of regions. The caller takes chunk 0 before it starts the region; a participant that finds its chunk
// taken, or has none, takes any chunk left. A chunk is claimed by writing the region's generation into its slot.
typedef struct { _Alignas(64) atomic_long generation; } fv_claim;
static fv_claim claims[FV_MAX_THREADS + 1];

static void run_chunk(long i) {
    region_fn(region_ctx, i);
    atomic_fetch_add_explicit(&done_chunks, 1, memory_order_acq_rel);
}

static int claim(long i, long g) {
    return atomic_load_explicit(&claims[i].generation, memory_order_acquire) != g &&
           atomic_exchange_explicit(&claims[i].generation, g, memory_order_acq_rel) != g;
}

static int claims_chunks(long chunks) { return chunks <= FV_MAX_THREADS + 1; }

static void run_chunks(long participant, long g) {
    if (!claims_chunks(region_chunks)) {  // more chunks than slots: first come, first served
        for (;;) {
            long i = atomic_fetch_add_explicit(&next_chunk, 1, memory_order_acq_rel);
            if (i >= region_chunks) return;
            run_chunk(i);
        }
    }
    if (participant == 0) run_chunk(0);  // claimed by the caller before the region started
    else if (participant < region_chunks && claim(participant, g)) run_chunk(participant);
    for (long i = 1; i < region_chunks; i++)
        if (claim(i, g)) run_chunk(i);
}

static void *worker(void *arg) {
    long me = (long)arg;
    // The generation before this worker was created: a region started before the thread runs is still its to see.
    long seen = atomic_load_explicit(&finished[me], memory_order_acquire);
    for (;;) {
        long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < FV_SPIN_ROUNDS) { FV_PAUSE(); continue; }
            pthread_mutex_lock(&pool_sleep);
            while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen)
                pthread_cond_wait(&pool_wake, &pool_sleep);
            pthread_mutex_unlock(&pool_sleep);
            break;
        }
        seen = g;
        run_chunks(me + 1, g);
        atomic_store_explicit(&finished[me], g, memory_order_release);
    }
    return 0;
}

static void start_workers(int threads) {
    pool_started = 1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 0 && threads > cores) threads = (int)cores;  // a spinning worker without a core of its own only hurts
    long g = atomic_load_explicit(&generation, memory_order_relaxed);
    for (int i = 0; i < threads - 1 && i < FV_MAX_THREADS; i++) {
        atomic_store_explicit(&finished[pool_workers], g, memory_order_relaxed);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, worker, (void *)(long)pool_workers) == 0) pool_workers++;
        pthread_attr_destroy(&attr);
    }
}

static _Thread_local int thread_serial;  // this thread runs its regions alone (one image per core)

int fv_set_thread_serial(int serial) {
    int previous = thread_serial;
    thread_serial = serial;
    return previous;
}

void fv_parallel_run(long chunks, int threads, fv_task_fn fn, void *ctx) {
    if (chunks <= 0) return;
    if (chunks == 1 || threads <= 1 || thread_serial || pthread_mutex_trylock(&pool_busy) != 0) {
        for (long i = 0; i < chunks; i++) fn(ctx, i);
        return;
    }
    if (!pool_started) start_workers(threads);
    region_fn = fn;
    region_ctx = ctx;
    region_chunks = chunks;
    atomic_store_explicit(&done_chunks, 0, memory_order_relaxed);
    atomic_store_explicit(&next_chunk, 0, memory_order_relaxed);
    // Only the caller (holding pool_busy) moves the generation, so it knows the next one and takes chunk 0 first.
    long next = atomic_load_explicit(&generation, memory_order_relaxed) + 1;
    if (claims_chunks(chunks)) atomic_store_explicit(&claims[0].generation, next, memory_order_relaxed);
    pthread_mutex_lock(&pool_sleep);  // a worker between its last check and its wait must see the new generation
    long g = atomic_fetch_add_explicit(&generation, 1, memory_order_acq_rel) + 1;
    pthread_cond_broadcast(&pool_wake);
    pthread_mutex_unlock(&pool_sleep);
    run_chunks(0, g);
    while (atomic_load_explicit(&done_chunks, memory_order_acquire) < chunks) FV_PAUSE();
    // Every worker must be done reading this region's function and context before the next region rewrites them.
    for (int i = 0; i < pool_workers; i++)
        while (atomic_load_explicit(&finished[i], memory_order_acquire) != g) FV_PAUSE();
    pthread_mutex_unlock(&pool_busy);
}
