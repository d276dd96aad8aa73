package dev.credits.core.store;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;

import java.net.URI;
import java.time.Duration;

/** Builds SDK clients the way a Lambda function should: explicit HTTP client, region and credentials, no discovery. */
public final class Clients {
    /** The longest one DynamoDB call may take, its SDK retries included. */
    public static final Duration API_CALL_TIMEOUT = Duration.ofSeconds(8);

    private Clients() {}

    /** Refuses a call that could outlive the invocation ({@link Deadline}), before anything is sent. */
    static final class DeadlineGuard implements software.amazon.awssdk.core.interceptor.ExecutionInterceptor {
        @Override
        public void beforeExecution(software.amazon.awssdk.core.interceptor.Context.BeforeExecution context,
                                    software.amazon.awssdk.core.interceptor.ExecutionAttributes attributes) {
            if (!Deadline.allows(API_CALL_TIMEOUT.toMillis())) {
                throw software.amazon.awssdk.core.exception.SdkClientException.create(
                        "not started: the invocation has less time left than a DynamoDB call may take");
            }
        }
    }

    public static DynamoDbClient dynamo(StoreConfig config) {
        DynamoDbClientBuilder b = DynamoDbClient.builder()
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(5))
                        .build())
                .region(Region.of(config.region()))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallAttemptTimeout(Duration.ofSeconds(3))
                        .apiCallTimeout(API_CALL_TIMEOUT)
                        .addExecutionInterceptor(new DeadlineGuard())
                        .build());
        if (config.endpoint() != null) {
            b.endpointOverride(URI.create(config.endpoint()))
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")));
        } else {
            b.credentialsProvider(EnvironmentVariableCredentialsProvider.create());
        }
        return b.build();
    }
}
