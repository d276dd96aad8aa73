package dev.credits.core.store;

import java.util.Map;

/**
 * Where the tables are, read once from the function's environment and failing fast when something is missing.
 *
 * @param endpoint DynamoDB endpoint override, from {@code AWS_ENDPOINT_URL_DYNAMODB} (the variable the AWS SDKs
 *                 honour for it; locally, the moto stand-in), or null for AWS's own
 */
public record StoreConfig(String accountsTable, String ledgerTable, String region, String endpoint) {

    public StoreConfig {
        if (accountsTable == null || accountsTable.isBlank()) throw new IllegalStateException("ACCOUNTS_TABLE is not set");
        if (ledgerTable == null || ledgerTable.isBlank()) throw new IllegalStateException("LEDGER_TABLE is not set");
        if (region == null || region.isBlank()) region = "us-east-1";
    }

    /** The environment variable naming a DynamoDB endpoint: the AWS SDKs' own name for it. */
    public static final String ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_DYNAMODB";

    public static StoreConfig fromEnv(Map<String, String> env) {
        return new StoreConfig(env.get("ACCOUNTS_TABLE"), env.get("LEDGER_TABLE"),
                env.get("AWS_REGION"), blankToNull(env.get(ENDPOINT_VARIABLE)));
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
