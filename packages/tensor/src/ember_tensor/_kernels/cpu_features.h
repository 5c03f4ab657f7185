/* What the running CPU (and the OS, which must save the wider registers) can execute.
 *
 * This file is compiled for the baseline x86-64 target only, so asking is always safe; the
 * answer picks which compiled copy of the kernels ember_tensor loads (see _kernels/__init__.py).
 * GCC 12+ knows the x86-64 micro-architecture levels by name, which is exactly what the
 * variants are compiled for (-march=x86-64-v3 / -v4); other compilers check the features
 * those levels add that the kernels' code generation can use.
 */
#ifndef EMBER_CPU_FEATURES_H
#define EMBER_CPU_FEATURES_H

#ifndef EMBER_NATIVE_BUILD
#define EMBER_NATIVE_BUILD 0
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define EMBER_X86_64 1

static int ember_cpu_has_x86_64_v3(void) {
    __builtin_cpu_init();
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    return __builtin_cpu_supports("x86-64-v3") != 0;
#else
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
        && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2")
        && __builtin_cpu_supports("avx");
#endif
}

static int ember_cpu_has_x86_64_v4(void) {
    __builtin_cpu_init();
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
    return __builtin_cpu_supports("x86-64-v4") != 0;
#else
    return ember_cpu_has_x86_64_v3() && __builtin_cpu_supports("avx512f")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512cd");
#endif
}

#else
#define EMBER_X86_64 0
static int ember_cpu_has_x86_64_v3(void) { return 0; }
static int ember_cpu_has_x86_64_v4(void) { return 0; }
#endif

#endif
