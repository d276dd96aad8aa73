package dev.credits.core.store;

/**
 * The time the current invocation has left, so that no DynamoDB call starts that could outlive the function. Lambda
 * stops a function at its timeout without an answer (API Gateway then answers 5xx, not our 503 with Retry-After), and
 * a request may make several calls of up to {@link Clients#API_CALL_TIMEOUT} each. A call that would not surely end
 * in time is refused before it starts, as a store outage: the caller gets a 503 and retries the same request, which
 * is idempotent. Kept per thread; set by the HTTP shell from the Lambda context, absent elsewhere (no limit).
 */
public final class Deadline {
    private static final ThreadLocal<Long> END_NANOS = new ThreadLocal<>();
    /** What is kept back after the last call: the answer still has to be written and returned. */
    static final long MARGIN_MILLIS = 500;

    private Deadline() {}

    /** From now, this thread's invocation has {@code remainingMillis} left. */
    public static void start(long remainingMillis) {
        END_NANOS.set(System.nanoTime() + remainingMillis * 1_000_000L);
    }

    public static void clear() {
        END_NANOS.remove();
    }

    /** {@code task}, to run on another thread under this thread's deadline (a read run in parallel for this request). */
    public static Runnable carried(Runnable task) {
        Long end = END_NANOS.get();
        return () -> {
            if (end != null) END_NANOS.set(end);
            try {
                task.run();
            } finally {
                END_NANOS.remove();
            }
        };
    }

    /** Whether a call that may take {@code callMillis} would end before the invocation's time is up, with the margin. */
    public static boolean allows(long callMillis) {
        Long end = END_NANOS.get();
        return end == null || (end - System.nanoTime()) / 1_000_000L >= callMillis + MARGIN_MILLIS;
    }
}
