package dev.credits.core.domain;

import java.util.Optional;

/** The rules between the hard limit (a floor) and the soft limit (an alert threshold above it). */
public final class Limits {
    private Limits() {}

    public record Problem(String field, String message) {}

    /** A requested change to an account's limits and alert address. Micro-credits. */
    public record LimitsChange(Change<Long> softLimit, Change<Long> hardLimit, Change<String> alertEmail) {}

    public static Optional<Problem> check(long hardLimit, Long softLimit) {
        if (hardLimit < 0) return Optional.of(new Problem("hardLimit", "must not be negative"));
        if (softLimit != null && softLimit <= hardLimit) {
            return Optional.of(new Problem("softLimit", "must be above the hard limit"));
        }
        return Optional.empty();
    }
}
