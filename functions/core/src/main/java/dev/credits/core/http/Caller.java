package dev.credits.core.http;

import java.util.Set;

/**
 * Who is calling, from the JWT claims that API Gateway's authorizer (or the local runner) validated.
 *
 * @param accountId the account an owner's token is for ({@code account_id} claim), or null
 * @param scopes    OAuth scopes: {@code credits/admin}, {@code credits/metering}
 */
public record Caller(String subject, String accountId, Set<String> scopes) {
    public static final String ADMIN = "credits/admin";
    public static final String METERING = "credits/metering";
    public static final String ACCOUNT_CLAIM = "account_id";

    public Caller {
        scopes = scopes == null ? Set.of() : Set.copyOf(scopes);
    }

    public boolean isAdmin() { return scopes.contains(ADMIN); }
    public boolean isMetering() { return scopes.contains(METERING); }
    public boolean owns(String account) { return accountId != null && accountId.equals(account); }

    /** Roles a route admits. */
    public enum Role { OWNER, METERING, ADMIN }

    /** Throws 403 unless one of the roles admits this caller for this account. */
    public void require(String account, Role... roles) {
        for (Role r : roles) {
            switch (r) {
                case ADMIN -> { if (isAdmin()) return; }
                case METERING -> { if (isMetering()) return; }
                case OWNER -> { if (owns(account)) return; }
            }
        }
        throw new ApiException(403, "forbidden", "This token may not do that on this account.");
    }
}
