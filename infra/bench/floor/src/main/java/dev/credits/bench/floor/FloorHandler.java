package dev.credits.bench.floor;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClientBuilder;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The floor of this stack: a Lambda function that builds the same DynamoDB client as the credits functions
 * ({@code Clients.dynamo}: URL-connection HTTP client, explicit region and credentials, the same timeouts) and makes
 * one conditional UpdateItem on the accounts table: {@code balance -= cost, spendable -= cost} if
 * {@code spendable >= cost}. No parsing beyond reading the account id, no pricing, no ledger entry, no read-back.
 *
 * <p>It takes the same API Gateway HTTP API event as the usage function (as a plain map, which the runtime's
 * serializer builds) and answers 201 or 402. Everything a real function does above this is its own cost.
 */
public final class FloorHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    private final DynamoDbClient dynamo;
    private final String accountsTable;

    public FloorHandler() {
        this(System.getenv());
    }

    public FloorHandler(Map<String, String> env) {
        this(client(env.getOrDefault("AWS_REGION", "us-east-1"), env.get("AWS_ENDPOINT_URL_DYNAMODB")), env.get("ACCOUNTS_TABLE"));
    }

    public FloorHandler(DynamoDbClient dynamo, String accountsTable) {
        if (accountsTable == null || accountsTable.isBlank()) throw new IllegalStateException("ACCOUNTS_TABLE is not set");
        this.dynamo = dynamo;
        this.accountsTable = accountsTable;
    }

    /** The credits functions' client, built the same way (a copy of {@code dev.credits.core.store.Clients#dynamo}). */
    public static DynamoDbClient client(String region, String endpoint) {
        DynamoDbClientBuilder b = DynamoDbClient.builder()
                .httpClient(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(5))
                        .build())
                .region(Region.of(region))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallAttemptTimeout(Duration.ofSeconds(3))
                        .apiCallTimeout(Duration.ofSeconds(8))
                        .build());
        b.credentialsProvider(DefaultCredentialsProvider.builder().build());
        if (endpoint != null && !endpoint.isBlank()) b.endpointOverride(URI.create(endpoint));
        return b.build();
    }

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        Object params = event == null ? null : event.get("pathParameters");
        Object id = params instanceof Map<?, ?> m ? m.get("id") : null;
        Map<String, Object> response = new LinkedHashMap<>();
        if (id == null) {
            response.put("statusCode", 400);
            response.put("body", "{\"error\":\"no account\"}");
            return response;
        }
        boolean charged = charge(id.toString(), 1);
        response.put("statusCode", charged ? 201 : 402);
        response.put("headers", Map.of("content-type", "application/json"));
        response.put("body", charged ? "{\"charged\":true}" : "{\"charged\":false}");
        return response;
    }

    /** One conditional UpdateItem: the charge's write, alone. @return false when the condition failed */
    public boolean charge(String accountId, long costMicros) {
        AttributeValue cost = AttributeValue.builder().n(Long.toString(costMicros)).build();
        try {
            dynamo.updateItem(b -> b.tableName(accountsTable)
                    .key(Map.of("accountId", AttributeValue.builder().s(accountId).build()))
                    .updateExpression("SET balance = balance - :c, spendable = spendable - :c")
                    .conditionExpression("spendable >= :c")
                    .expressionAttributeValues(Map.of(":c", cost)));
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        }
    }
}
