package dev.credits.core.log;

import dev.credits.core.json.Json;

import java.io.PrintStream;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Structured logs: one JSON object per line, with the request id. Callers pass only safe fields
 * (ids, codes, amounts, timings), never tokens, secrets or bodies.
 */
public final class Log {
    private static volatile PrintStream out = System.out;

    private Log() {}

    /** For the local runner and tests, which capture log lines. */
    public static void redirect(PrintStream stream) { out = stream; }

    public static void info(String event, String requestId, Object... kv) { write("INFO", event, requestId, kv); }
    public static void warn(String event, String requestId, Object... kv) { write("WARN", event, requestId, kv); }
    public static void error(String event, String requestId, Object... kv) { write("ERROR", event, requestId, kv); }

    private static void write(String level, String event, String requestId, Object[] kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("timestamp", Instant.now().toString());
        m.put("level", level);
        m.put("event", event);
        m.put("requestId", requestId);
        for (int i = 0; i + 1 < kv.length; i += 2) {
            Object v = kv[i + 1];
            m.put(String.valueOf(kv[i]), v instanceof Number || v instanceof Boolean || v == null ? v : String.valueOf(v));
        }
        String line = Json.write(m);
        PrintStream o = out;
        synchronized (o) { o.println(line); }
    }
}
