package dev.credits.core.domain;

import java.util.regex.Pattern;

/** An account id: 1 to 64 of {@code A-Z a-z 0-9 _ -} (so it can never contain the key separator '#'). */
public record AccountId(String value) {
    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    public AccountId {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("account id must be 1 to 64 of A-Z a-z 0-9 _ -");
        }
    }

    public static boolean isValid(String s) {
        return s != null && VALID.matcher(s).matches();
    }

    @Override public String toString() { return value; }
}
