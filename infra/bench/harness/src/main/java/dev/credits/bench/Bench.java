package dev.credits.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The benchmark harness of issue 5 (infra/scripts/bench.sh runs it). Measures, never judges: no figure here is
 * compared with a target. Options (all optional):
 * <pre>
 *   --repo DIR            the repository root (default: the current directory)
 *   --rie FILE            aws-lambda-rie (default: REPO/.local/bin/aws-lambda-rie)
 *   --function-java FILE  the java that runs the functions (default: this JVM's)
 *   --runtime-cp FILE     the runtime interface client's classpath file (default: REPO/infra/bench/runtime/target/classpath.txt)
 *   --runs N              cold starts per function (default 5)
 *   --events N            usage events seeded for the overview (default 100000)
 *   --seconds S           warm latency: seconds per measured phase (default 4)
 *   --only LIST           comma list of cost,warm,overview,cold (default: all)
 *   --out DIR             where latest.md and latest.json go (default: REPO/infra/bench/results)
 * </pre>
 */
public final class Bench {
    private Bench() {}

    public static void main(String[] argv) throws Exception {
        // 32 in-process callers stand for 32 function instances, each keeping its own connection: let the JDK's
        // HTTP keep-alive cache hold that many (its default is 5 per host)
        System.setProperty("http.maxConnections", "64");
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) a.put(argv[i].replaceFirst("^--", ""), argv[i + 1]);
        Path repo = Path.of(a.getOrDefault("repo", ".")).toAbsolutePath().normalize();
        Path rie = Path.of(a.getOrDefault("rie", repo.resolve(".local/bin/aws-lambda-rie").toString()));
        Path java = Path.of(a.getOrDefault("function-java", Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        Path runtimeCpFile = Path.of(a.getOrDefault("runtime-cp", repo.resolve("infra/bench/runtime/target/classpath.txt").toString()));
        int runs = Integer.parseInt(a.getOrDefault("runs", "5"));
        int events = Integer.parseInt(a.getOrDefault("events", "100000"));
        double seconds = Double.parseDouble(a.getOrDefault("seconds", "4"));
        Set<String> only = Set.copyOf(Arrays.asList(a.getOrDefault("only", "cost,warm,overview,cold").split(",")));
        Path out = Path.of(a.getOrDefault("out", repo.resolve("infra/bench/results").toString()));

        Report report = new Report();
        report.meta.put("command", a.getOrDefault("command", "make bench"));
        report.meta.put("date (UTC)", ZonedDateTime.now(ZoneOffset.UTC).withNano(0).toString());
        report.meta.put("machine", Machine.describe());
        report.meta.put("JDK", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version")
                + " (no JDK 21 on this machine: the functions are compiled for release 21 and run on this JDK)");
        report.meta.put("DynamoDB", "the stand-in: moto server, every request run alone (infra/standin/moto_dynamodb.py, a Python child "
                + "process of the harness, in memory), tables from template.yaml");
        report.meta.put("runtime", "aws-lambda-rie (Go module github.com/aws/aws-lambda-runtime-interface-emulator) + "
                + "com.amazonaws:aws-lambda-java-runtime-interface-client:2.9.0");

        long start = System.nanoTime();
        try (Fixture fx = new Fixture(repo.resolve("template.yaml"))) {
            Report.progress("the DynamoDB stand-in (moto) started at " + fx.endpoint());
            if (only.contains("cost")) CostPerEvent.run(fx, report);
            if (only.contains("warm")) WarmLatency.run(fx, report, 6, seconds, 2);
            if (only.contains("overview")) Overview.run(fx, report, events, 20);
            if (only.contains("cold")) {
                String cp = Files.readString(runtimeCpFile).trim();
                ColdStart.run(fx, report, repo, rie, java, cp, runs, System.getenv("STRIPE_API_BASE"));
            }
        }
        report.meta.put("harness wall time", String.format("%.0f s", (System.nanoTime() - start) / 1e9));
        report.write(out);
        Report.progress("wrote " + out.resolve("latest.md") + " and " + out.resolve("latest.json"));
        System.exit(0); // pools and clients may leave non-daemon threads behind; the stand-in exits with this JVM
    }

    /** nproc, memory and CPU model, from /proc. */
    static final class Machine {
        static String describe() {
            String cpu = "?";
            long memKb = 0;
            try {
                for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (l.startsWith("model name")) { cpu = l.substring(l.indexOf(':') + 1).trim(); break; }
                }
                for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                    if (l.startsWith("MemTotal:")) { memKb = Long.parseLong(l.replaceAll("[^0-9]", "")); break; }
                }
            } catch (Exception e) {
                // described as unknown
            }
            return Runtime.getRuntime().availableProcessors() + " processors (nproc), "
                    + String.format("%.1f GiB RAM", memKb / 1024.0 / 1024.0) + ", CPU " + cpu + ", " + System.getProperty("os.name")
                    + " " + System.getProperty("os.arch");
        }
    }

}
