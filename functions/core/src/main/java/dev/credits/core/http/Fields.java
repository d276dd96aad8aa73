package dev.credits.core.http;

import dev.credits.core.json.Json;
import dev.credits.core.money.Credits;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Set;

/** Reads typed fields from a parsed JSON body; every problem is a 400 that names the field. */
public final class Fields {
    private final Map<String, Object> body;

    public Fields(Map<String, Object> body) {
        this.body = body;
    }

    /** Refuses any field not in {@code allowed}: a typo must not be silently ignored on a billing API. */
    public Fields only(Set<String> allowed) {
        for (String k : body.keySet()) {
            if (!allowed.contains(k)) throw ApiException.invalid(k, "is not a known field");
        }
        return this;
    }

    public boolean has(String name) {
        return body.containsKey(name);
    }

    public boolean isNull(String name) {
        return body.get(name) == Json.NULL;
    }

    public String string(String name, boolean required) {
        Object v = body.get(name);
        if (v == null || v == Json.NULL) {
            if (required) throw ApiException.invalid(name, "is required");
            return null;
        }
        if (!(v instanceof String s)) throw ApiException.invalid(name, "must be a string");
        return s;
    }

    /** An integer count in [min, max]. */
    public Long count(String name, boolean required, long min, long max) {
        Object v = body.get(name);
        if (v == null || v == Json.NULL) {
            if (required) throw ApiException.invalid(name, "is required");
            return null;
        }
        if (!(v instanceof BigDecimal d)) throw ApiException.invalid(name, "must be a number");
        BigDecimal s = d.stripTrailingZeros();
        if (s.scale() > 0) throw ApiException.invalid(name, "must be a whole number");
        if (s.compareTo(BigDecimal.valueOf(min)) < 0) throw ApiException.invalid(name, "must be at least " + min);
        if (s.compareTo(BigDecimal.valueOf(max)) > 0) throw ApiException.invalid(name, "must be at most " + max);
        return s.longValueExact();
    }

    /** An amount of credits (JSON number, at most 6 decimals), as micro-credits. */
    public Long credits(String name, boolean required, boolean allowNegative, boolean allowZero) {
        Object v = body.get(name);
        if (v == null || v == Json.NULL) {
            if (required) throw ApiException.invalid(name, "is required");
            return null;
        }
        if (!(v instanceof BigDecimal d)) throw ApiException.invalid(name, "must be a number of credits");
        long micros;
        try {
            micros = Credits.toMicros(d, allowNegative);
        } catch (Credits.AmountException e) {
            throw ApiException.invalid(name, e.getMessage());
        }
        if (!allowZero && micros == 0) throw ApiException.invalid(name, "must be greater than 0");
        return micros;
    }

    public Boolean bool(String name) {
        Object v = body.get(name);
        if (v == null || v == Json.NULL) return null;
        if (!(v instanceof Boolean b)) throw ApiException.invalid(name, "must be true or false");
        return b;
    }

    public Instant instant(String name, boolean required) {
        String s = string(name, required);
        if (s == null) return null;
        Instant t;
        try {
            t = Instant.parse(s);
        } catch (DateTimeParseException e) {
            throw ApiException.invalid(name, "must be an ISO-8601 UTC time such as 2026-11-24T10:00:00Z");
        }
        if (t.isBefore(Instant.parse("2000-01-01T00:00:00Z")) || t.isAfter(Instant.parse("9999-01-01T00:00:00Z"))) {
            throw ApiException.invalid(name, "must be between the years 2000 and 9998");
        }
        return t;
    }
}
