package dev.credits.core.snap;

import dev.credits.core.log.Log;
import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;

import java.util.ArrayList;
import java.util.List;

/**
 * SnapStart priming: before Lambda snapshots an initialised function, run its hot path once so the classes are loaded
 * and the JIT has seen it, and the restored copies start warm. A priming step must write nothing (it runs on every
 * published version) and leave nothing that restored instances must not share: no cached credentials (the SDK reads
 * them per request), no random state of ours, and connections are simply re-opened by the HTTP client when a kept
 * one turns out dead after restore.
 */
public final class Priming {
    /** CRaC keeps resources weakly: hold them here for the life of the function. */
    private static final List<Resource> RESOURCES = new ArrayList<>();

    private Priming() {}

    /** Runs every registered priming step now, as a checkpoint would (tests and the benchmark use it). */
    public static synchronized void primeAll() {
        for (Resource r : List.copyOf(RESOURCES)) {
            try {
                r.beforeCheckpoint(null);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Registers a priming step, run before a SnapStart checkpoint (off SnapStart, never). */
    public static synchronized void register(String name, Runnable prime) {
        Resource r = new Resource() {
            @Override
            public void beforeCheckpoint(Context<? extends Resource> context) {
                long start = System.nanoTime();
                try {
                    prime.run();
                    Log.info("primed", "-", "function", name, "durationMs", (System.nanoTime() - start) / 1_000_000);
                } catch (RuntimeException e) {
                    // priming is an optimisation: a failure must not stop the snapshot
                    Log.warn("priming_failed", "-", "function", name, "cause", e.getClass().getName());
                }
            }

            @Override
            public void afterRestore(Context<? extends Resource> context) {
                // nothing to rebuild: see the class comment
            }
        };
        RESOURCES.add(r);
        Core.getGlobalContext().register(r);
    }
}
