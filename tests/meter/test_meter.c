/*
 * test_meter.c — the energy meter, the cost formulas and the statistics
 * module they report with.
 *
 * RAPL is exercised on a fake powercap tree in a temporary directory
 * (TINGLADO_POWERCAP_ROOT's job in real use): joules across a counter wrap,
 * which domains count, idle subtraction, and every way the tree can be
 * broken (missing, permission denied, a directory where a file belongs,
 * garbage, a counter above its range, a file vanishing mid-run) must fall
 * back to the estimate with a label that says so — or, mid-run, return an
 * error — and never crash.  Cost is checked against the hand calculations
 * written out in docs/energy-and-cost.md; Wilson intervals against
 * Newcombe (1998), Table I; the bootstrap against tools/stats_oracle.py.
 */
#include "meter/meter.h"
#include "../test.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char g_root[256];

static void write_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_root, rel);
    FILE *f = fopen(path, "w");
    CHECK_MSG(f != NULL, "cannot write %s", path);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void make_dir(const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_root, rel);
    mkdir(path, 0755);
}

/* A zone directory with its name and counter files. */
static void zone(const char *dir, const char *name, unsigned long long energy, unsigned long long max) {
    char rel[256], v[64];
    make_dir(dir);
    snprintf(rel, sizeof rel, "%s/name", dir);
    snprintf(v, sizeof v, "%s\n", name);
    write_file(rel, v);
    snprintf(rel, sizeof rel, "%s/energy_uj", dir);
    snprintf(v, sizeof v, "%llu\n", energy);
    write_file(rel, v);
    snprintf(rel, sizeof rel, "%s/max_energy_range_uj", dir);
    snprintf(v, sizeof v, "%llu\n", max);
    write_file(rel, v);
}

static void set_energy(const char *dir, unsigned long long energy) {
    char rel[256], v[64];
    snprintf(rel, sizeof rel, "%s/energy_uj", dir);
    snprintf(v, sizeof v, "%llu\n", energy);
    write_file(rel, v);
}

/* A fresh, empty fake tree. */
static void new_tree(void) {
    snprintf(g_root, sizeof g_root, "/tmp/tg-powercap-XXXXXX");
    CHECK(mkdtemp(g_root) != NULL);
}

static void remove_tree(void) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s 2>/dev/null; rm -rf %s", g_root, g_root);
    CHECK(system(cmd) == 0);
}

static tg_meter *meter_on_tree(void) {
    tg_meter_params p = tg_meter_default_params();
    p.powercap_root = g_root;
    p.no_gpu = true;
    tg_meter *m = tg_meter_new(&p);
    CHECK(m != NULL);
    return m;
}

static void sleep_s(double s) {
    struct timespec t = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&t, NULL);
}

static void test_wrap_delta(void) {
    CHECK_EQ_INT(tg__rapl_wrap_delta(100, 250, 1000), 150);
    CHECK_EQ_INT(tg__rapl_wrap_delta(900, 100, 1000), 200); /* 100 to the top, 100 after */
    CHECK_EQ_INT(tg__rapl_wrap_delta(5, 5, 1000), 0);
    CHECK_EQ_INT(tg__rapl_wrap_delta(262143328850ull, 1000000ull, 262143328850ull), 1000000);
}

/* Two packages with DRAM, plus the zones that must not count. */
static void test_rapl_domains_and_wrap(void) {
    new_tree();
    zone("intel-rapl:0", "package-0", 900000, 1000000);
    zone("intel-rapl:0:0", "core", 0, 1000000);
    zone("intel-rapl:0:1", "dram", 5000, 1000000);
    zone("intel-rapl:1", "package-1", 10, 10000000);
    zone("intel-rapl:2", "psys", 0, 1000000);
    zone("intel-rapl-mmio:0", "package-0", 0, 1000000);
    tg_meter *m = meter_on_tree();
    if (!m)
        return;
    CHECK(!tg_meter_estimated(m));
    CHECK_MSG(strstr(tg_meter_label(m), "CPU measured: RAPL (package-0, package-0/dram, package-1;"),
              "label: %s", tg_meter_label(m));
    CHECK(strstr(tg_meter_label(m), "estimated") == NULL);
    tg_meter_reading a, b, c;
    CHECK(tg_meter_read(m, &a) == TG_OK);
    CHECK(fabs(a.cpu_joules) < 1e-12);
    set_energy("intel-rapl:0", 100000);   /* wrapped: 0.1 J to the top + 0.1 J */
    set_energy("intel-rapl:0:1", 7000);   /* +0.002 J                          */
    set_energy("intel-rapl:1", 3000010);  /* +3 J                              */
    set_energy("intel-rapl:0:0", 999999); /* core: inside the package, ignored */
    set_energy("intel-rapl:2", 999999);   /* psys: contains the packages       */
    set_energy("intel-rapl-mmio:0", 999999);
    CHECK(tg_meter_read(m, &b) == TG_OK);
    CHECK_MSG(fabs(b.cpu_joules - 3.202) < 1e-9, "got %.9f J, want 3.202", b.cpu_joules);
    CHECK(b.gpu_joules == 0.0);
    /* A second wrap of the same counter keeps accumulating. */
    set_energy("intel-rapl:0", 50000);    /* 0.9 J to the top + 0.05 J */
    CHECK(tg_meter_read(m, &c) == TG_OK);
    CHECK_MSG(fabs(c.cpu_joules - 4.152) < 1e-9, "got %.9f J, want 4.152", c.cpu_joules);
    CHECK(fabs(tg_meter_joules(m, &b, &c) - 0.95) < 1e-9); /* no idle baseline yet */
    tg_meter_free(m);
    remove_tree();
}

static void test_idle_subtraction(void) {
    new_tree();
    zone("intel-rapl:0", "package-0", 0, 1000000000);
    tg_meter *m = meter_on_tree();
    if (!m)
        return;
    CHECK(tg_meter_idle_watts(m) == 0.0);
    CHECK(strstr(tg_meter_label(m), "no idle baseline"));
    tg_meter_reading a, b, c, d;
    CHECK(tg_meter_read(m, &a) == TG_OK);
    sleep_s(0.05);
    set_energy("intel-rapl:0", 2000000); /* 2 J while idle */
    CHECK(tg_meter_read(m, &b) == TG_OK);
    CHECK(tg_meter_set_idle(m, &a, &b) == TG_OK);
    const double idle_w = 2.0 / (b.seconds - a.seconds);
    CHECK_MSG(fabs(tg_meter_idle_watts(m) - idle_w) < 1e-9, "idle %.6f W, want %.6f", tg_meter_idle_watts(m), idle_w);
    CHECK(strstr(tg_meter_label(m), "idle baseline") && strstr(tg_meter_label(m), "W subtracted"));
    CHECK(tg_meter_read(m, &c) == TG_OK);
    sleep_s(0.02);
    set_energy("intel-rapl:0", 2000000 + 50000000); /* 50 J of work */
    CHECK(tg_meter_read(m, &d) == TG_OK);
    const double want = 50.0 - idle_w * (d.seconds - c.seconds);
    CHECK_MSG(fabs(tg_meter_joules(m, &c, &d) - want) < 1e-9, "attributed %.6f J, want %.6f",
              tg_meter_joules(m, &c, &d), want);
    CHECK(want < 50.0 && want > 0.0);
    /* A quieter interval than the baseline attributes nothing, not less. */
    tg_meter_reading e;
    sleep_s(0.02);
    CHECK(tg_meter_read(m, &e) == TG_OK);
    CHECK(tg_meter_joules(m, &d, &e) == 0.0);
    /* A zero-length idle period is refused. */
    CHECK(tg_meter_set_idle(m, &e, &e) == TG_ERR_ARG);
    CHECK(tg_meter_measure_idle(m, -1) == TG_ERR_ARG);
    tg_meter_free(m);
    remove_tree();
}

/* The tree is broken in some way: the meter falls back to the estimate and
 * its label names the estimate and the reason. */
static void expect_fallback(const char *what, const char *reason) {
    tg_meter *m = meter_on_tree();
    if (!m)
        return;
    CHECK_MSG(tg_meter_estimated(m), "%s: not estimated", what);
    const char *l = tg_meter_label(m);
    CHECK_MSG(strstr(l, "CPU estimated:") && strstr(l, reason), "%s: label lacks '%s': %s", what, reason, l);
    tg_meter_reading r;
    CHECK(tg_meter_read(m, &r) == TG_OK);
    CHECK(r.cpu_joules >= 0.0 && r.gpu_joules == 0.0);
    tg_meter_free(m);
}

static void test_fallbacks(void) {
    snprintf(g_root, sizeof g_root, "/nonexistent/powercap");
    expect_fallback("no tree", "no RAPL counters: /nonexistent/powercap");

    new_tree();
    expect_fallback("empty tree", "no RAPL package domain");
    zone("intel-rapl:0", "psys", 0, 100);
    expect_fallback("psys only", "no RAPL package domain");
    remove_tree();

    new_tree();
    zone("intel-rapl:0", "package-0", 5, 100);
    char path[512];
    snprintf(path, sizeof path, "%s/intel-rapl:0/energy_uj", g_root);
    unlink(path);
    expect_fallback("missing energy_uj", "energy_uj: No such file or directory");

    if (geteuid() != 0) {
        zone("intel-rapl:0", "package-0", 5, 100);
        chmod(path, 0);
        expect_fallback("permission denied", "permission denied");
        chmod(path, 0644);
    } else {
        fprintf(stderr, "  (running as root: chmod 000 would not deny; a directory stands in for the file)\n");
    }
    /* Also as root: a directory where the counter file belongs. */
    unlink(path);
    mkdir(path, 0755);
    expect_fallback("directory for a file", "Is a directory");
    rmdir(path);

    zone("intel-rapl:0", "package-0", 5, 100);
    write_file("intel-rapl:0/energy_uj", "lots\n");
    expect_fallback("garbage counter", "is not a counter value");
    write_file("intel-rapl:0/energy_uj", "-5\n");
    expect_fallback("negative counter", "is not a counter value");
    write_file("intel-rapl:0/energy_uj", "500\n");
    expect_fallback("counter above range", "outside [0, max_energy_range_uj 100]");
    write_file("intel-rapl:0/energy_uj", "5\n");
    write_file("intel-rapl:0/max_energy_range_uj", "0\n");
    expect_fallback("zero range", "outside [0, max_energy_range_uj 0]");
    write_file("intel-rapl:0/max_energy_range_uj", "");
    expect_fallback("empty range file", "is not a counter value");
    remove_tree();

    /* The environment variable points the reader elsewhere. */
    setenv("TINGLADO_POWERCAP_ROOT", "/nonexistent/from-env", 1);
    tg_meter *m = tg_meter_new(NULL);
    CHECK(m && strstr(tg_meter_label(m), "/nonexistent/from-env"));
    tg_meter_free(m);
    unsetenv("TINGLADO_POWERCAP_ROOT");
}

/* A counter that vanishes mid-run: the read fails with a message and
 * changes nothing; once it is back, reading goes on from where it was. */
static void test_read_failure_mid_run(void) {
    new_tree();
    zone("intel-rapl:0", "package-0", 1000, 1000000);
    zone("intel-rapl:0:1", "dram", 1000, 1000000);
    tg_meter *m = meter_on_tree();
    if (!m)
        return;
    tg_meter_reading a, b;
    set_energy("intel-rapl:0", 3000);
    set_energy("intel-rapl:0:1", 2000);
    CHECK(tg_meter_read(m, &a) == TG_OK);
    CHECK(fabs(a.cpu_joules - 0.003) < 1e-12);
    char path[512];
    snprintf(path, sizeof path, "%s/intel-rapl:0:1/energy_uj", g_root);
    unlink(path);
    set_energy("intel-rapl:0", 4000);
    CHECK(tg_meter_read(m, &b) == TG_ERR_IO);
    CHECK_ERROR_HAS("package-0/dram");
    set_energy("intel-rapl:0:1", 2500);
    CHECK(tg_meter_read(m, &b) == TG_OK);
    CHECK_MSG(fabs(b.cpu_joules - 0.0045) < 1e-12, "got %.9f", b.cpu_joules);
    tg_meter_free(m);
    remove_tree();
}

static double burn(double seconds) {
    double t0 = tg__process_cpu_seconds(), x = 1.0;
    while (tg__process_cpu_seconds() - t0 < seconds)
        for (int i = 0; i < 100000; i++)
            x = x * 1.0000001 + 1e-9;
    return x;
}

static void test_estimate(void) {
    new_tree();
    write_file("cpuinfo", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7763 64-Core Processor\n");
    char cpuinfo[512];
    snprintf(cpuinfo, sizeof cpuinfo, "%s/cpuinfo", g_root);
    tg_meter_params p = tg_meter_default_params();
    p.estimate_only = true;
    p.no_gpu = true;
    p.cpuinfo = cpuinfo;
    tg_meter *m = tg_meter_new(&p);
    CHECK(m && tg_meter_estimated(m));
    if (m) {
        const char *l = tg_meter_label(m);
        CHECK_MSG(strstr(l, "CPU estimated: 280 W TDP / 128 threads of 'AMD EPYC 7763 64-Core Processor' (lookup table)"),
                  "label: %s", l);
        tg_meter_reading a, b;
        CHECK(tg_meter_read(m, &a) == TG_OK);
        CHECK(burn(0.05) > 0);
        CHECK(tg_meter_read(m, &b) == TG_OK);
        const double cpu = b.cpu_seconds - a.cpu_seconds;
        CHECK(cpu >= 0.05);
        CHECK_MSG(fabs(tg_meter_joules(m, &a, &b) - 280.0 / 128.0 * cpu) < 1e-9, "%.6f J for %.4f CPU s",
                  tg_meter_joules(m, &a, &b), cpu);
        tg_meter_free(m);
    }
    write_file("cpuinfo", "model name\t: AMD EPYC\n");
    m = tg_meter_new(&p);
    CHECK(m && strstr(tg_meter_label(m), "225 W TDP / 128 threads of 'AMD EPYC' (generic lookup entry"));
    tg_meter_free(m);
    write_file("cpuinfo", "model name\t: Imaginary CPU 9000\n");
    m = tg_meter_new(&p);
    CHECK(m && strstr(tg_meter_label(m), "85 W default TDP") && strstr(tg_meter_label(m), "give --watts"));
    tg_meter_free(m);
    p.watts = 120;
    m = tg_meter_new(&p);
    CHECK(m && strstr(tg_meter_label(m), "CPU estimated: 120 W (--watts) / "));
    tg_meter_free(m);
    p.watts = -3;
    CHECK(tg_meter_new(&p) == NULL);
    CHECK_ERROR_HAS("watts");
    remove_tree();
}

static void test_nvml_absent(void) {
    tg_meter_params p = tg_meter_default_params();
    p.estimate_only = true;
    p.nvml_lib = "/nonexistent/libnvidia-ml.so.1";
    tg_meter *m = tg_meter_new(&p);
    CHECK(m && !tg_meter_has_gpu(m));
    CHECK(m && strstr(tg_meter_label(m), "no NVIDIA GPU power: /nonexistent/libnvidia-ml.so.1 does not load"));
    tg_meter_reading r;
    CHECK(m && tg_meter_read(m, &r) == TG_OK && r.gpu_joules == 0.0);
    tg_meter_free(m);
    /* A library that loads but is not NVML (libm lacks the functions). */
    p.nvml_lib = "libm.so.6";
    m = tg_meter_new(&p);
    CHECK(m && !tg_meter_has_gpu(m) && strstr(tg_meter_label(m), "lacks the NVML functions"));
    tg_meter_free(m);
}

/* NVML's path on a stand-in library (tests/meter/fake_nvml.c, built here):
 * device 0's counter gains 1 J per read, device 1 has no counter and draws
 * a steady 100 W, integrated between readings. */
static void test_nvml_fake(void) {
    char dir[] = "/tmp/tg-nvml-XXXXXX", lib[64], cmd[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(lib, sizeof lib, "%s/libfake-nvml.so", dir);
    snprintf(cmd, sizeof cmd, "${CC:-cc} -shared -fPIC -o %s tests/meter/fake_nvml.c", lib);
    CHECK_MSG(system(cmd) == 0, "cannot build the fake NVML (run from the repository root)");
    tg_meter_params p = tg_meter_default_params();
    p.estimate_only = true;
    p.nvml_lib = lib;
    tg_meter *m = tg_meter_new(&p);
    CHECK(m && tg_meter_has_gpu(m));
    if (m) {
        CHECK_MSG(strstr(tg_meter_label(m), "GPU measured: NVML, 2 devices (Fake GPU, …), power samples integrated"),
                  "label: %s", tg_meter_label(m));
        CHECK(strstr(tg_meter_label(m), "CPU estimated:"));
        tg_meter_reading a, b;
        CHECK(tg_meter_read(m, &a) == TG_OK);
        sleep_s(0.05);
        CHECK(tg_meter_read(m, &b) == TG_OK);
        const double want = 1.0 + 100.0 * (b.seconds - a.seconds);
        CHECK_MSG(fabs(b.gpu_joules - a.gpu_joules - want) < 1e-9, "GPU %.6f J, want %.6f",
                  b.gpu_joules - a.gpu_joules, want);
        tg_meter_free(m);
    }
    setenv("FAKE_NVML_DEVICES", "0", 1);
    m = tg_meter_new(&p);
    CHECK(m && !tg_meter_has_gpu(m) && strstr(tg_meter_label(m), "NVML finds no device"));
    tg_meter_free(m);
    unsetenv("FAKE_NVML_DEVICES");
    setenv("FAKE_NVML_INIT_FAIL", "1", 1);
    m = tg_meter_new(&p);
    CHECK(m && !tg_meter_has_gpu(m) && strstr(tg_meter_label(m), "NVML failed to initialise"));
    tg_meter_free(m);
    unsetenv("FAKE_NVML_INIT_FAIL");
    /* The environment variable names the library when the params do not. */
    p.nvml_lib = NULL;
    setenv("TINGLADO_NVML_LIB", lib, 1);
    m = tg_meter_new(&p);
    CHECK(m && tg_meter_has_gpu(m));
    tg_meter_free(m);
    unsetenv("TINGLADO_NVML_LIB");
    unlink(lib);
    rmdir(dir);
}

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9 * (1.0 + fabs(b)))

/* docs/energy-and-cost.md, "Worked examples". */
static void test_cost_hand_values(void) {
    tg_cost_params p = tg_cost_default_params();
    p.capex = 30000;
    p.years = 4;
    p.utilisation = 0.6;
    p.pue = 1.2;
    p.price_kwh = 0.15;
    tg_cost c;
    CHECK(tg_cost_gpu_hour(&p, 700, &c) == TG_OK);
    /* 30000 / (4 × 8760 × 0.6) = 30000 / 21024 = 1.42694064 */
    CHECK_MSG(NEAR(c.hardware, 30000.0 / 21024.0), "%.9f", c.hardware);
    CHECK_MSG(NEAR(c.energy, 0.126), "%.9f", c.energy); /* 0.7 kW × 1.2 × 0.15 */
    CHECK_MSG(NEAR(c.total, 1.55294064), "%.9f", c.total);
    CHECK(fabs(c.total - 1.5529) < 5e-5);
    /* Idle draw of the unsold 40% of hours carried by the sold 60%: 100 W × 0.4/0.6 */
    p.idle_watts = 100;
    CHECK(tg_cost_gpu_hour(&p, 700, &c) == TG_OK);
    CHECK_MSG(NEAR(c.energy, 0.15 * 1.2 * (0.7 + 0.1 * 0.4 / 0.6)), "%.9f", c.energy);

    /* The home server: 0.5 J/token at 20 tokens/s, €0.30/kWh, PUE 1, a
     * €1,000 machine over 5 years used half the time, idling at 30 W. */
    p = tg_cost_default_params();
    p.price_kwh = 0.30;
    p.capex = 1000;
    p.years = 5;
    p.utilisation = 0.5;
    p.idle_watts = 30;
    CHECK(tg_cost_per_mtok(&p, 0.5, 20, &c) == TG_OK);
    CHECK_MSG(NEAR(c.energy, 0.30 * 3.5e6 / 3.6e6), "%.9f", c.energy); /* (0.5e6 + 30×50000/0.5) J */
    CHECK_MSG(NEAR(c.hardware, 1000.0 / 21900.0 * 50000.0 / 3600.0), "%.9f", c.hardware);
    CHECK_MSG(fabs(c.total - 0.9259) < 5e-5, "%.9f", c.total);
    /* Energy only: 1 J/token at €0.25/kWh and PUE 1.5 → 1e6 J = 0.2778 kWh → €0.104167 */
    p = tg_cost_default_params();
    p.price_kwh = 0.25;
    p.pue = 1.5;
    CHECK(tg_cost_per_mtok(&p, 1.0, 0, &c) == TG_OK);
    CHECK(NEAR(c.energy, 0.25 * 1.5 / 3.6) && c.hardware == 0.0);
    /* Rent includes power: $2 per hour at 1000 tokens/s → 1e3 s/Mtok → $0.5556 */
    p.rent_hour = 2.0;
    CHECK(tg_cost_per_mtok(&p, 1.0, 1000, &c) == TG_OK);
    CHECK(NEAR(c.hardware, 2.0 * 1000.0 / 3600.0) && c.energy == 0.0);
    /* One request's energy: 36 J at 0.25/kWh and PUE 1.5 → 36/3.6e6 kWh × 0.375 = 3.75e-6 */
    p = tg_cost_default_params();
    p.price_kwh = 0.25;
    p.pue = 1.5;
    CHECK(NEAR(tg_cost_of_joules(&p, 36.0), 3.75e-6));
    CHECK(tg_cost_of_joules(&p, -1.0) == 0.0);
}

static void test_cost_errors(void) {
    tg_cost_params p = tg_cost_default_params();
    tg_cost c;
    p.pue = 0.9;
    CHECK(tg_cost_gpu_hour(&p, 700, &c) == TG_ERR_ARG);
    CHECK_ERROR_HAS("PUE");
    p = tg_cost_default_params();
    p.utilisation = 0;
    CHECK(tg_cost_gpu_hour(&p, 700, &c) == TG_ERR_ARG);
    p.utilisation = 1.5;
    CHECK(tg_cost_gpu_hour(&p, 700, &c) == TG_ERR_ARG);
    CHECK_ERROR_HAS("utilisation");
    p = tg_cost_default_params();
    p.capex = 100;
    CHECK(tg_cost_gpu_hour(&p, 700, &c) == TG_ERR_ARG);
    CHECK_ERROR_HAS("lifetime");
    p.years = 3;
    p.rent_hour = 1;
    CHECK(tg_cost_per_mtok(&p, 1, 10, &c) == TG_ERR_ARG);
    p.rent_hour = 0;
    CHECK(tg_cost_per_mtok(&p, 1, 0, &c) == TG_ERR_ARG);
    CHECK_ERROR_HAS("tokens per second");
    CHECK(tg_cost_per_mtok(&p, NAN, 10, &c) == TG_ERR_ARG);
    CHECK(tg_cost_gpu_hour(&p, -1, &c) == TG_ERR_ARG);
    p.price_kwh = INFINITY;
    CHECK(tg_cost_gpu_hour(&p, 1, &c) == TG_ERR_ARG);
}

/* Newcombe, "Two-sided confidence intervals for the single proportion:
 * comparison of seven methods", Statistics in Medicine 17 (1998), Table I,
 * method 3 (Wilson score, no continuity correction). */
static void test_wilson_textbook(void) {
    static const struct { size_t k, n; double lo, hi; } t[] = {
        {81, 263, 0.2553, 0.3662},
        {15, 148, 0.0624, 0.1605},
        {0, 20, 0.0000, 0.1611},
        {1, 29, 0.0061, 0.1718},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        tg_estimate e = tg_stats_wilson(t[i].k, t[i].n);
        CHECK_MSG(fabs(e.lo - t[i].lo) < 5e-5 && fabs(e.hi - t[i].hi) < 5e-5, "%zu/%zu: [%.5f, %.5f]", t[i].k,
                  t[i].n, e.lo, e.hi);
        CHECK(e.n == t[i].n && NEAR(e.value, (double)t[i].k / (double)t[i].n));
    }
    tg_estimate e = tg_stats_wilson(20, 20); /* mirror of 0/20 */
    CHECK(fabs(e.lo - (1 - 0.1611)) < 5e-5 && e.hi == 1.0);
    e = tg_stats_wilson(0, 0);
    CHECK(e.n == 0);
}

/* Values printed by `python3 tools/stats_oracle.py`, an independent
 * implementation of the same definition. */
static void test_bootstrap_fixed_seed(void) {
    const double x[] = {12.1, 11.8, 12.6, 13.0, 11.5, 12.2, 12.9, 12.4};
    tg_estimate e = tg_stats_median_boot(x, 8, 2000, 1);
    CHECK_MSG(NEAR(e.value, 12.3) && NEAR(e.lo, 11.8) && NEAR(e.hi, 12.9) && e.n == 8, "%.4f [%.4f, %.4f]", e.value,
              e.lo, e.hi);
    e = tg_stats_median_boot(x, 8, 2000, 42);
    CHECK_MSG(NEAR(e.lo, 11.85) && NEAR(e.hi, 12.9), "seed 42: [%.4f, %.4f]", e.lo, e.hi);
    double y[11];
    for (int i = 1; i <= 11; i++)
        y[i - 1] = 0.5 * i * i - 3.0 * i;
    e = tg_stats_median_boot(y, 11, 500, 7);
    CHECK_MSG(NEAR(e.value, 0.0) && NEAR(e.lo, -4.0) && NEAR(e.hi, 13.5), "y: %.4f [%.4f, %.4f]", e.value, e.lo,
              e.hi);
    /* One observation: no interval to speak of. */
    e = tg_stats_median_boot(x, 1, 2000, 1);
    CHECK(e.value == 12.1 && e.lo == 12.1 && e.hi == 12.1 && e.n == 1);
    CHECK(isnan(tg_stats_median(x, 0)));
    CHECK(NEAR(tg_stats_median(x, 8), 12.3));
    tg_estimate mean = tg_stats_mean(x, 8);
    CHECK(NEAR(mean.value, 98.5 / 8));
}

/* The interval does what it says: over 400 samples of 41 standard-uniform
 * draws, the bootstrap interval of the median covers the true median 0.5
 * in close to 95% of them (percentile bootstrap of a median is known to be
 * roughly right at this n; the Wilson interval of the coverage must
 * contain 0.95, or the bootstrap is broken). */
static void test_bootstrap_coverage(void) {
    uint64_t st = 99;
    size_t covered = 0, trials = 400;
    double v[41];
    for (size_t t = 0; t < trials; t++) {
        for (int i = 0; i < 41; i++) {
            st = st * 6364136223846793005ull + 1442695040888963407ull;
            v[i] = (double)(st >> 11) / 9007199254740992.0;
        }
        tg_estimate e = tg_stats_median_boot(v, 41, 1000, t + 1);
        covered += e.lo <= 0.5 && 0.5 <= e.hi;
    }
    tg_estimate cov = tg_stats_wilson(covered, trials);
    CHECK_MSG(cov.lo <= 0.95 && 0.95 <= cov.hi, "coverage %.3f [%.3f, %.3f] of %zu", cov.value, cov.lo, cov.hi,
              trials);
}

int main(void) {
    RUN(test_wrap_delta);
    RUN(test_rapl_domains_and_wrap);
    RUN(test_idle_subtraction);
    RUN(test_fallbacks);
    RUN(test_read_failure_mid_run);
    RUN(test_estimate);
    RUN(test_nvml_absent);
    RUN(test_nvml_fake);
    RUN(test_cost_hand_values);
    RUN(test_cost_errors);
    RUN(test_wilson_textbook);
    RUN(test_bootstrap_fixed_seed);
    RUN(test_bootstrap_coverage);
    return tg_test_finish("test_meter");
}
