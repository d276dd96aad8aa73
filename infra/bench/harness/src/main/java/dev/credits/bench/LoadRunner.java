package dev.credits.bench;

import com.sun.tools.attach.VirtualMachine;

import javax.management.MBeanServerConnection;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The local runner as {@code make run} starts it (infra/scripts/run.sh: the same main class, classpath and JVM
 * flags), in its own JVM on a free port, so that its memory is its own: RSS from /proc, and the heap through JMX
 * (the attach API starts the JVM's local management agent, as {@code jcmd <pid> ManagementAgent.start_local} would).
 */
final class LoadRunner implements AutoCloseable {
    /** One memory sample: after a full GC the runner was asked to run, so the heap figure is the live set. */
    record Memory(double rssMb, double heapAfterGcMb, double heapCommittedMb, double metaspaceMb, int threads,
                  long gcCount, long gcMillis, long fullGcMillis) {}

    /** The JVM flags of infra/scripts/run.sh. */
    static final List<String> RUN_SH_FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC");

    final Process process;
    final int port;
    final String baseUrl;
    private final JMXConnector jmx;
    private final MemoryMXBean memory;
    private final List<GarbageCollectorMXBean> collectors = new ArrayList<>();
    private final List<MemoryPoolMXBean> pools = new ArrayList<>();
    private final ThreadMXBean threads;

    private LoadRunner(Process process, int port, JMXConnector jmx) throws IOException, javax.management.JMException {
        this.process = process;
        this.port = port;
        this.baseUrl = "http://127.0.0.1:" + port;
        this.jmx = jmx;
        MBeanServerConnection c = jmx.getMBeanServerConnection();
        this.memory = ManagementFactory.newPlatformMXBeanProxy(c, ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        this.threads = ManagementFactory.newPlatformMXBeanProxy(c, ManagementFactory.THREAD_MXBEAN_NAME, ThreadMXBean.class);
        for (var n : c.queryNames(new javax.management.ObjectName(ManagementFactory.GARBAGE_COLLECTOR_MXBEAN_DOMAIN_TYPE + ",*"), null)) {
            collectors.add(ManagementFactory.newPlatformMXBeanProxy(c, n.toString(), GarbageCollectorMXBean.class));
        }
        for (var n : c.queryNames(new javax.management.ObjectName(ManagementFactory.MEMORY_POOL_MXBEAN_DOMAIN_TYPE + ",*"), null)) {
            pools.add(ManagementFactory.newPlatformMXBeanProxy(c, n.toString(), MemoryPoolMXBean.class));
        }
    }

    /**
     * @param java    the java launcher
     * @param cp      the runner's classpath (infra/local-runner/target/classes plus its classpath.txt)
     * @param log     where the runner's output (its JSON log lines) goes
     */
    static LoadRunner start(Path java, String cp, List<String> extraJvmFlags, Path log) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) { port = s.getLocalPort(); }
        List<String> cmd = new ArrayList<>();
        cmd.add(java.toString());
        cmd.addAll(RUN_SH_FLAGS);
        cmd.addAll(extraJvmFlags);
        cmd.addAll(List.of("-cp", cp, "dev.credits.local.Main"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.put("PORT", Integer.toString(port));
        env.remove("DATA_DIR");
        env.remove("DEMO");
        env.remove("SNS_ENDPOINT");
        Process p = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly));
        // ready when it answers HTTP (it binds the port only after the DynamoDB stand-in and the tables are up)
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (true) {
            if (!p.isAlive()) throw new IllegalStateException("the local runner exited with " + p.exitValue() + "; see " + log);
            try {
                int s = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/accounts/none"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (s == 401) break;
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) throw new IllegalStateException("the local runner did not answer within 120 s; see " + log);
            Thread.sleep(250);
        }
        VirtualMachine vm = VirtualMachine.attach(Long.toString(p.pid()));
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        return new LoadRunner(p, port, JMXConnectorFactory.connect(new JMXServiceURL(address)));
    }

    long pid() { return process.pid(); }

    /** Asks the runner for a full GC (System.gc(), a serial full collection), then reads its memory. */
    Memory sample() {
        try {
            memory.gc();
            var heap = memory.getHeapMemoryUsage();
            double meta = 0;
            long afterGc = 0;
            for (MemoryPoolMXBean p : pools) {
                if (p.getName().equals("Metaspace")) meta = p.getUsage().getUsed() / 1048576.0;
                // each heap pool's usage right after its last collection (the full one just asked for), untouched
                // by what the requests allocated since
                if (p.getType() == java.lang.management.MemoryType.HEAP && p.getCollectionUsage() != null) afterGc += p.getCollectionUsage().getUsed();
            }
            long count = 0, millis = 0, full = 0;
            for (GarbageCollectorMXBean g : collectors) {
                count += g.getCollectionCount();
                millis += g.getCollectionTime();
                if (g.getName().contains("MarkSweep") || g.getName().contains("Old")) full += g.getCollectionTime();
            }
            return new Memory(rssMb(), afterGc / 1048576.0, heap.getCommitted() / 1048576.0, meta,
                    threads.getThreadCount(), count, millis, full);
        } catch (RuntimeException e) {
            return new Memory(rssMb(), Double.NaN, Double.NaN, Double.NaN, -1, -1, -1, -1);
        }
    }

    /** VmRSS of the runner's process, from /proc/<pid>/status. */
    double rssMb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid()), "status"))) {
                if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0;
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return Double.NaN;
    }

    @Override
    public void close() {
        try { jmx.close(); } catch (IOException ignored) { /* the runner is stopping anyway */ }
        process.destroy(); // SIGTERM: the runner's shutdown hook stops the DynamoDB stand-in
        try {
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
