package dev.credits.core.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.*;

/** The invocation's deadline is per thread, and goes with a read that the request runs on another thread. */
class DeadlineTest {
    private final ExecutorService other = Executors.newSingleThreadExecutor();

    @AfterEach
    void tearDown() {
        Deadline.clear();
        other.shutdownNow();
    }

    @Test
    void aCallThatWouldEndAfterTheDeadlineIsNotAllowed() {
        assertTrue(Deadline.allows(8_000), "no deadline: no limit (tests, stream handlers)");
        Deadline.start(5_000);
        assertFalse(Deadline.allows(8_000), "8 s call with 5 s left");
        assertTrue(Deadline.allows(1_000), "1 s call with 5 s left");
        Deadline.clear();
        assertTrue(Deadline.allows(8_000));
    }

    @Test
    void aTaskCarriedToAnotherThreadKeepsTheRequestsDeadlineAndLeavesNoneBehind() throws Exception {
        Deadline.start(5_000);
        boolean plain = CompletableFuture.supplyAsync(() -> Deadline.allows(8_000), other).get();
        assertTrue(plain, "another thread has no deadline of its own");

        boolean[] seen = new boolean[1];
        CompletableFuture.runAsync(Deadline.carried(() -> seen[0] = Deadline.allows(8_000)), other).get();
        assertFalse(seen[0], "the carried task is refused an 8 s call, as the request would be");

        boolean after = CompletableFuture.supplyAsync(() -> Deadline.allows(8_000), other).get();
        assertTrue(after, "the pool thread does not keep the deadline for its next task");
    }
}
