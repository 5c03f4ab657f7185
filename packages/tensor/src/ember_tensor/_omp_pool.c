/* Ember's thread pool behind the GNU OpenMP entry points its kernels call.

   gcc compiles Cython's `prange` blocks into calls to libgomp (GOMP_parallel, the dynamic
   loop's start/next/end, GOMP_barrier, GOMP_atomic_*, omp_get_*). The kernel extensions
   link against this library instead of libgomp, so Ember decides how an idle team thread
   waits. libgomp's choice is fixed at process start (GOMP_SPINCOUNT): a short spin sleeps
   through the gaps between the ops of one training step, so each region starts with a
   futex wake (25-35 us on a KVM guest); a long spin steals the core from other processes
   on a busy machine (1.3-2x slower steps beside two busy processes). Here an idle thread
   spins for up to EMBER_SPIN_US microseconds (1000), yielding the core every 5 us, unless
   the machine is busy (more runnable threads than CPUs, sampled every few ms): then every
   wait sleeps after ~20 us.

   Only what gcc emits for Ember's kernels is implemented: one pool, one region at a time
   (a region started while another is active, nested or from a second thread, runs on a
   team of one, as libgomp's default of one active level), dynamic loops and barriers.
   Every exported symbol carries the version node EMBER_OMP_1 (_omp_pool.map), so the
   kernels bind to these and never to a libgomp that torch loads into the same process,
   and libgomp's users never bind to these. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
/* worksharing constructs a thread may run ahead of the slowest (nowait loops) */
#define WS_SLOTS 8
#define LINE 64

typedef struct {
    _Atomic long next;            /* next iteration to hand out (counted from 0) */
    long n, start, incr, chunk;
    _Atomic long id;              /* the construct this slot holds, -1 for none */
    _Atomic int done;             /* team threads that left it */
    _Atomic int lock;
} ws_t;

typedef struct {
    int nthreads;
    ws_t ws[WS_SLOTS];
    _Atomic unsigned bar_count __attribute__((aligned(LINE)));
    _Atomic unsigned bar_gen __attribute__((aligned(LINE)));
    _Atomic int bar_sleepers;
} team_t;

typedef struct {
    team_t *team;
    int num;
    int active;                   /* inside a region of more than one thread */
    long ws_index;                /* worksharing constructs met in this region */
    ws_t *ws;                     /* the dynamic loop running now */
} tstate_t;

static __thread tstate_t cur = {NULL, 0, 0, 0, NULL};

typedef struct {
    _Atomic unsigned go;          /* bumped to hand this worker a region */
    _Atomic int sleeping;
    char pad[LINE - sizeof(unsigned) - sizeof(int)];
} worker_t;

static struct {
    _Atomic int busy;             /* a master holds the pool */
    int nworkers;                 /* worker threads started (ids 1..nworkers) */
    void (*fn)(void *);
    void *data;
    team_t team;
    _Atomic int finished __attribute__((aligned(LINE)));
    _Atomic int master_sleeping;
    worker_t workers[MAX_THREADS] __attribute__((aligned(LINE)));
} pool;

static _Atomic int icv_nthreads = 0;
static _Atomic long spin_ns = 1000000;
static pthread_mutex_t atomic_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic long stat_sleeps = 0;
static _Atomic long stat_contended = 0;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void futex_wait(void *addr, unsigned expected) {
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(void *addr, int n) {
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Whether the machine is busy, from the count of runnable threads the kernel reports
   (/proc/loadavg's fourth field, this process's own included) against the machine's
   online CPUs: more runnable threads than CPUs means some wait for a core, and a
   spinning pool thread would take it from them. A spinning thread that the scheduler
   preempts then waits a whole time slice (ms) for its turn, where a sleeping one is woken
   promptly, so on a busy machine a wait spins only busy_spin_ns (20 us, about libgomp's
   GOMP_SPINCOUNT=1000 here; EMBER_BUSY_SPIN_US) and then sleeps: 3 us slept through the
   short waits at a region's inner barriers, and an eval forward 1x224 beside two busy
   processes read 52-71 ms in 4 of 5 runs where 20 us read 37-38 in 4 of 5. Neither
   the clock nor the thread's context switches tell this apart here: on a KVM guest the
   hypervisor stalls a quiet vCPU for 30-150 us every few milliseconds (no switch in the
   guest), and short-lived system threads preempt a spinner 10-20 times a second. The
   count is read at most every SAMPLE_NS by whichever waiting thread finds it due (an open,
   read and close, a few microseconds); BUSY_AFTER samples in a row above the CPUs mark
   the machine busy and as many at or below them mark it quiet again, so one stray process
   or one stray sample moves nothing. */
#define SAMPLE_NS 4000000L
#define BUSY_AFTER 2
static long busy_spin_ns = 20000;
#define YIELD_EVERY_NS 5000

static _Atomic long next_sample = 0;
static _Atomic int machine_busy = 0;
static int busy_streak = 0, quiet_streak = 0;   /* written by the one sampling thread */
static int machine_cpus = 1;

/* The number of runnable threads on the machine, or -1 when it cannot be read. */
static int runnable_threads(void) {
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[128];
    ssize_t got = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (got <= 0)
        return -1;
    buf[got] = 0;
    /* "0.52 0.61 0.70 3/245 30436": the number before the slash */
    char *slash = strchr(buf, '/');
    if (slash == NULL)
        return -1;
    char *p = slash;
    while (p > buf && p[-1] >= '0' && p[-1] <= '9')
        p--;
    return p == slash ? -1 : (int)strtol(p, NULL, 10);
}

/* Sample the runnable count when it is due (one thread at a time); the busy verdict. */
static bool busy_now(long t) {
    long due = atomic_load_explicit(&next_sample, memory_order_relaxed);
    if (t >= due && atomic_compare_exchange_strong(&next_sample, &due, t + SAMPLE_NS)) {
        int running = runnable_threads();
        if (running > machine_cpus) {
            quiet_streak = 0;
            if (++busy_streak >= BUSY_AFTER && !atomic_load(&machine_busy)) {
                atomic_store(&machine_busy, 1);
                atomic_fetch_add_explicit(&stat_contended, 1, memory_order_relaxed);
            }
        } else if (running >= 0) {
            busy_streak = 0;
            if (++quiet_streak >= BUSY_AFTER)
                atomic_store(&machine_busy, 0);
        }
    }
    return atomic_load_explicit(&machine_busy, memory_order_relaxed);
}

/* Spin until *word != old, for at most the spin budget (busy_spin_ns on a busy machine),
   yielding the core every few microseconds; true when the word changed, false when the
   caller should sleep. */
static bool spin_until_changed(_Atomic unsigned *word, unsigned old) {
    long budget = atomic_load_explicit(&spin_ns, memory_order_relaxed);
    if (budget <= 0)
        return atomic_load(word) != old;
    long start = now_ns(), last_yield = start;
    bool busy = busy_now(start);
    if (busy)
        budget = busy_spin_ns;
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (atomic_load_explicit(word, memory_order_acquire) != old)
                return true;
            cpu_relax();
        }
        long t = now_ns();
        if (t - start > budget)
            return false;
        if (!busy && t - last_yield > YIELD_EVERY_NS) {
            if (busy_now(t)) {
                busy = true;
                budget = busy_spin_ns;
                continue;
            }
            sched_yield();
            last_yield = now_ns();
        }
    }
}

/* Wait until *word != old: spin, then sleep on the futex (sleeping tells the waker). */
static void wait_changed(_Atomic unsigned *word, unsigned old, _Atomic int *sleeping) {
    if (spin_until_changed(word, old))
        return;
    atomic_fetch_add(&stat_sleeps, 1);
    for (;;) {
        atomic_fetch_add(sleeping, 1);
        if (atomic_load(word) == old)
            futex_wait(word, old);
        atomic_fetch_sub(sleeping, 1);
        if (atomic_load_explicit(word, memory_order_acquire) != old)
            return;
    }
}

static void team_init(team_t *t, int n) {
    t->nthreads = n;
    for (int i = 0; i < WS_SLOTS; i++) {
        atomic_store_explicit(&t->ws[i].id, -1, memory_order_relaxed);
        atomic_store_explicit(&t->ws[i].done, 0, memory_order_relaxed);
        atomic_store_explicit(&t->ws[i].lock, 0, memory_order_relaxed);
    }
    atomic_store_explicit(&t->bar_count, 0, memory_order_relaxed);
    atomic_store_explicit(&t->bar_sleepers, 0, memory_order_relaxed);
}

static void *worker_main(void *arg) {
    int me = (int)(intptr_t)arg;
    worker_t *w = &pool.workers[me];
    unsigned seen = 0;   /* go starts at 0; the first region bumps it after start */
    for (;;) {
        wait_changed(&w->go, seen, &w->sleeping);
        seen = atomic_load_explicit(&w->go, memory_order_acquire);
        cur.team = &pool.team;
        cur.num = me;
        cur.active = 1;
        cur.ws_index = 0;
        cur.ws = NULL;
        pool.fn(pool.data);
        cur.team = NULL;
        cur.num = 0;
        cur.active = 0;
        int others = pool.team.nthreads - 1;   /* read before the master may move on */
        if (atomic_fetch_add(&pool.finished, 1) + 1 == others
                && atomic_load(&pool.master_sleeping))
            futex_wake(&pool.finished, 1);
    }
    return NULL;
}

/* Start workers up to id n - 1; returns how many threads a team can have. */
static int ensure_workers(int n) {
    if (pool.nworkers >= n - 1)
        return n;
    pthread_mutex_lock(&start_lock);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);   /* signals go to the program's threads */
    while (pool.nworkers < n - 1) {
        int id = pool.nworkers + 1;
        atomic_store(&pool.workers[id].go, 0);
        atomic_store(&pool.workers[id].sleeping, 0);
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&thread, &attr, worker_main, (void *)(intptr_t)id);
        pthread_attr_destroy(&attr);
        if (rc != 0)
            break;
        pool.nworkers = id;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_mutex_unlock(&start_lock);
    return pool.nworkers + 1 < n ? pool.nworkers + 1 : n;
}

static void run_alone(void (*fn)(void *), void *data) {
    team_t team;
    team_init(&team, 1);
    tstate_t saved = cur;
    cur.team = &team;
    cur.num = 0;
    cur.ws_index = 0;
    cur.ws = NULL;   /* cur.active stays: a team of one is not an active level */
    fn(data);
    cur = saved;
}

int omp_get_max_threads(void) {
    int n = atomic_load_explicit(&icv_nthreads, memory_order_relaxed);
    return n > 0 ? n : 1;
}

void omp_set_num_threads(int n) {
    atomic_store(&icv_nthreads, n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : n));
}

int omp_get_num_threads(void) { return cur.team ? cur.team->nthreads : 1; }

int omp_get_thread_num(void) { return cur.team ? cur.num : 0; }

void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags) {
    (void)flags;
    int n = num_threads ? (int)num_threads : omp_get_max_threads();
    if (n > MAX_THREADS)
        n = MAX_THREADS;
    int expected = 0;
    if (n <= 1 || cur.active
            || !atomic_compare_exchange_strong(&pool.busy, &expected, 1)) {
        run_alone(fn, data);
        return;
    }
    n = ensure_workers(n);
    if (n <= 1) {
        atomic_store(&pool.busy, 0);
        run_alone(fn, data);
        return;
    }
    team_init(&pool.team, n);
    pool.fn = fn;
    pool.data = data;
    atomic_store(&pool.finished, 0);
    for (int i = 1; i < n; i++) {
        worker_t *w = &pool.workers[i];
        atomic_fetch_add(&w->go, 1);
        if (atomic_load(&w->sleeping))
            futex_wake(&w->go, 1);
    }
    tstate_t saved = cur;
    cur.team = &pool.team;
    cur.num = 0;
    cur.active = 1;
    cur.ws_index = 0;
    cur.ws = NULL;
    fn(data);
    cur = saved;
    /* the region's closing barrier: wait for the workers, spinning and then sleeping */
    for (;;) {
        unsigned done = (unsigned)atomic_load_explicit(&pool.finished, memory_order_acquire);
        if ((int)done == n - 1)
            break;
        if (spin_until_changed((_Atomic unsigned *)&pool.finished, done))
            continue;
        atomic_store(&pool.master_sleeping, 1);
        if ((unsigned)atomic_load(&pool.finished) == done)
            futex_wait(&pool.finished, done);
        atomic_store(&pool.master_sleeping, 0);
    }
    atomic_store(&pool.busy, 0);
}

void GOMP_barrier(void) {
    team_t *t = cur.team;
    if (t == NULL || t->nthreads <= 1)
        return;
    unsigned gen = atomic_load_explicit(&t->bar_gen, memory_order_acquire);
    if (atomic_fetch_add(&t->bar_count, 1) + 1 == (unsigned)t->nthreads) {
        atomic_store_explicit(&t->bar_count, 0, memory_order_relaxed);
        atomic_fetch_add(&t->bar_gen, 1);
        if (atomic_load(&t->bar_sleepers))
            futex_wake(&t->bar_gen, INT_MAX);
        return;
    }
    wait_changed(&t->bar_gen, gen, &t->bar_sleepers);
}

static ws_t *ws_enter(long start, long end, long incr, long chunk) {
    static team_t lone;   /* never used: a region always sets cur.team */
    team_t *t = cur.team ? cur.team : &lone;
    long k = cur.ws_index++;
    ws_t *ws = &t->ws[k % WS_SLOTS];
    if (atomic_load_explicit(&ws->id, memory_order_acquire) != k) {
        int unlocked = 0;
        while (!atomic_compare_exchange_weak(&ws->lock, &unlocked, 1)) {
            unlocked = 0;
            cpu_relax();
        }
        if (atomic_load(&ws->id) != k) {
            /* the slot's previous construct must be left by every thread first */
            while (atomic_load(&ws->id) != -1
                   && atomic_load_explicit(&ws->done, memory_order_acquire) < t->nthreads) {
                cpu_relax();
                sched_yield();
            }
            long n = 0;
            if (incr > 0 && start < end)
                n = (end - start + incr - 1) / incr;
            else if (incr < 0 && start > end)
                n = (start - end - incr - 1) / -incr;
            ws->n = n;
            ws->start = start;
            ws->incr = incr;
            ws->chunk = chunk < 1 ? 1 : chunk;
            atomic_store_explicit(&ws->next, 0, memory_order_relaxed);
            atomic_store_explicit(&ws->done, 0, memory_order_relaxed);
            atomic_store_explicit(&ws->id, k, memory_order_release);
        }
        atomic_store_explicit(&ws->lock, 0, memory_order_release);
    }
    cur.ws = ws;
    return ws;
}

static bool ws_next(ws_t *ws, long *istart, long *iend) {
    long i0 = atomic_fetch_add_explicit(&ws->next, ws->chunk, memory_order_relaxed);
    if (i0 >= ws->n)
        return false;
    long i1 = i0 + ws->chunk < ws->n ? i0 + ws->chunk : ws->n;
    *istart = ws->start + i0 * ws->incr;
    *iend = ws->start + i1 * ws->incr;
    return true;
}

bool GOMP_loop_nonmonotonic_dynamic_start(long start, long end, long incr, long chunk,
                                          long *istart, long *iend) {
    return ws_next(ws_enter(start, end, incr, chunk), istart, iend);
}

bool GOMP_loop_nonmonotonic_dynamic_next(long *istart, long *iend) {
    return ws_next(cur.ws, istart, iend);
}

void GOMP_loop_end_nowait(void) {
    ws_t *ws = cur.ws;
    if (ws != NULL)
        atomic_fetch_add_explicit(&ws->done, 1, memory_order_release);
    cur.ws = NULL;
}

void GOMP_loop_end(void) {
    GOMP_loop_end_nowait();
    GOMP_barrier();
}

void GOMP_atomic_start(void) { pthread_mutex_lock(&atomic_lock); }

void GOMP_atomic_end(void) { pthread_mutex_unlock(&atomic_lock); }

/* Ember's own controls (parallel.pyx): the spin budget, and a count of waits that slept. */
void ember_pool_set_spin_us(long us) { atomic_store(&spin_ns, us < 0 ? 0 : us * 1000); }

long ember_pool_spin_us(void) { return atomic_load(&spin_ns) / 1000; }

long ember_pool_sleeps(void) { return atomic_load(&stat_sleeps); }

long ember_pool_contended(void) { return atomic_load(&stat_contended); }

long ember_pool_busy(void) { return atomic_load(&machine_busy); }

/* A forked child has only the forking thread: the pool starts its workers afresh. */
static void after_fork_in_child(void) {
    pool.nworkers = 0;
    atomic_store(&pool.busy, 0);
    atomic_store(&pool.finished, 0);
    atomic_store(&pool.master_sleeping, 0);
    pthread_mutex_init(&atomic_lock, NULL);
    pthread_mutex_init(&start_lock, NULL);
    cur.team = NULL;
    cur.num = 0;
    cur.active = 0;
    cur.ws = NULL;
}

static int parse_positive(const char *text) {
    if (text == NULL)
        return 0;
    char *stop;
    long v = strtol(text, &stop, 10);
    return (stop != text && v > 0) ? (int)(v > MAX_THREADS ? MAX_THREADS : v) : 0;
}

__attribute__((constructor)) static void pool_init(void) {
    int n = parse_positive(getenv("OMP_NUM_THREADS"));
    if (n == 0) {
        cpu_set_t set;
        n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
        if (n < 1)
            n = 1;
    }
    /* the runnable count is the whole machine's, so it is weighed against all its CPUs */
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    machine_cpus = online > 0 ? (int)online : 1;
    atomic_store(&icv_nthreads, n > MAX_THREADS ? MAX_THREADS : n);
    const char *busy_spin = getenv("EMBER_BUSY_SPIN_US");
    if (busy_spin != NULL && *busy_spin)
        busy_spin_ns = strtol(busy_spin, NULL, 10) * 1000;
    const char *spin = getenv("EMBER_SPIN_US");
    if (spin != NULL && *spin)
        ember_pool_set_spin_us(strtol(spin, NULL, 10));
    pthread_atfork(NULL, NULL, after_fork_in_child);
}
