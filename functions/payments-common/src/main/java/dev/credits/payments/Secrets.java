package dev.credits.payments;

import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

import java.util.Map;

/**
 * Stripe keys: from AWS Secrets Manager when deployed ({@code <NAME>_ARN} names the secret), or straight from the
 * environment in the local runner ({@code <NAME>}). Read once at cold start; never logged.
 */
public final class Secrets {
    private Secrets() {}

    public static String read(Map<String, String> env, String name) {
        String direct = env.get(name);
        if (direct != null && !direct.isBlank()) return direct;
        String arn = env.get(name + "_ARN");
        if (arn == null || arn.isBlank()) throw new IllegalStateException(name + "_ARN (or, locally, " + name + ") is not set");
        try (SecretsManagerClient sm = SecretsManagerClient.builder()
                .httpClient(UrlConnectionHttpClient.builder().build())
                .region(Region.of(env.getOrDefault("AWS_REGION", "us-east-1")))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .build()) {
            String value = sm.getSecretValue(b -> b.secretId(arn)).secretString();
            if (value == null || value.isBlank()) throw new IllegalStateException("secret " + name + " is empty");
            return value.trim();
        }
    }
}
