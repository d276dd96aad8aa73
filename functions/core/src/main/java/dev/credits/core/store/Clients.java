package dev.credits.core.store;

import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

import java.net.URI;
import java.time.Duration;

/** Builds SDK clients the way a Lambda function should: explicit HTTP client, region and credentials, no discovery. */
public final class Clients {
    /** The longest one DynamoDB call may take, its SDK retries included. */
    public static final Duration API_CALL_TIMEOUT = Duration.ofSeconds(8);

    private Clients() {}

    /** Refuses a call that could outlive the invocation ({@link Deadline}), before anything is sent. */
    static final class DeadlineGuard implements ExecutionInterceptor {
        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            if (!Deadline.allows(API_CALL_TIMEOUT.toMillis())) {
                throw SdkClientException.create(
                        "not started: the invocation has less time left than a DynamoDB call may take");
            }
        }
    }

    /** How long one call may take: to connect, to read, one attempt, and all attempts (the SDK's retries) together. */
    public record Timeouts(Duration connect, Duration socket, Duration attempt, Duration call) {}

    public static final Timeouts DYNAMO_TIMEOUTS = new Timeouts(Duration.ofSeconds(2), Duration.ofSeconds(5),
            Duration.ofSeconds(3), API_CALL_TIMEOUT);

    public static DynamoDbClient dynamo(StoreConfig config) {
        return configure(DynamoDbClient.builder(), config.region(), config.endpoint(), DYNAMO_TIMEOUTS, new DeadlineGuard()).build();
    }

    /**
     * Any SDK client the same way: the URL-connection HTTP client with these timeouts (the SDK's defaults, 30 s an
     * attempt, outlive a function's Timeout), the region, an endpoint when one is configured (a local stand-in), and
     * credentials from the SDK's default chain in every case: deployed, that is the function role's keys (from the
     * environment, or the container credentials endpoint that SnapStart functions get); locally, the stand-ins' dummy
     * keys that the runner puts in its JVM's system properties. No code path exists only for local runs.
     */
    public static <B extends AwsClientBuilder<B, ?> & AwsSyncClientBuilder<B, ?>> B configure(
            B b, String region, String endpoint, Timeouts t, ExecutionInterceptor... interceptors) {
        ClientOverrideConfiguration.Builder o = ClientOverrideConfiguration.builder()
                .apiCallAttemptTimeout(t.attempt()).apiCallTimeout(t.call());
        for (ExecutionInterceptor i : interceptors) o.addExecutionInterceptor(i);
        b.httpClient(UrlConnectionHttpClient.builder().connectionTimeout(t.connect()).socketTimeout(t.socket()).build())
                .region(Region.of(region))
                .overrideConfiguration(o.build());
        b.credentialsProvider(DefaultCredentialsProvider.builder().build());
        if (endpoint != null && !endpoint.isBlank()) b.endpointOverride(URI.create(endpoint));
        return b;
    }
}
