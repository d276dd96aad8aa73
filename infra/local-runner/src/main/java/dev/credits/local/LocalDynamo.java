package dev.credits.local;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.GlobalSecondaryIndex;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.Projection;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.StreamSpecification;
import software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.credits.local.Template.list;
import static dev.credits.local.Template.map;

/**
 * DynamoDB Local, in this process: in memory by default, or in a folder to keep data between runs. Tables are
 * created from template.yaml's definitions; a table's name is its logical id. {@link #external} names a DynamoDB
 * API that runs elsewhere (LocalStack in a container) instead, with the same tables and streams.
 */
public final class LocalDynamo implements AutoCloseable {
    /** null when the DynamoDB API is not ours to run (an external endpoint) */
    private final DynamoDBProxyServer server;
    private final String endpoint;

    private LocalDynamo(DynamoDBProxyServer server, String endpoint) {
        this.server = server;
        this.endpoint = endpoint;
    }

    /** A DynamoDB API (with its Streams API on the same endpoint, as LocalStack serves both) that someone else runs. */
    public static LocalDynamo external(String endpoint) {
        return new LocalDynamo(null, endpoint);
    }

    /** @param dataDir folder to keep data in, or null for memory only */
    public static LocalDynamo start(Path dataDir) {
        try {
            int port = freePort();
            List<String> args = new ArrayList<>(List.of("-port", String.valueOf(port), "-disableTelemetry"));
            if (dataDir == null) {
                args.add("-inMemory");
            } else {
                Files.createDirectories(dataDir);
                args.addAll(List.of("-dbPath", dataDir.toAbsolutePath().toString()));
            }
            DynamoDBProxyServer server = ServerRunner.createServerFromCommandLineArgs(args.toArray(String[]::new));
            server.start();
            return new LocalDynamo(server, "http://127.0.0.1:" + port);
        } catch (Exception e) {
            throw new IllegalStateException("DynamoDB Local did not start", e);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    public String endpoint() {
        return endpoint;
    }

    public DynamoDbClient client() {
        return DynamoDbClient.builder()
                .httpClient(UrlConnectionHttpClient.builder().build())
                .endpointOverride(URI.create(endpoint()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .build();
    }

    public DynamoDbStreamsClient streamsClient() {
        return DynamoDbStreamsClient.builder()
                .httpClient(UrlConnectionHttpClient.builder().build())
                .endpointOverride(URI.create(endpoint()))
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
                .build();
    }

    /** Creates each table of the template (skipping those that exist, when data is kept in a folder). */
    public void createTables(Template template, DynamoDbClient dynamo) {
        for (Template.Table t : template.tables()) {
            try {
                dynamo.createTable(toRequest(t));
            } catch (ResourceInUseException exists) {
                // kept from an earlier run
            }
            // DynamoDB Local answers ACTIVE at once; another endpoint may take a moment, like the real service
            if (server == null) dynamo.waiter().waitUntilTableExists(b -> b.tableName(t.logicalId()));
        }
    }

    static CreateTableRequest toRequest(Template.Table t) {
        Map<String, Object> p = t.properties();
        CreateTableRequest.Builder b = CreateTableRequest.builder()
                .tableName(t.logicalId())
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(list(p.get("AttributeDefinitions")).stream().map(a -> AttributeDefinition.builder()
                        .attributeName(String.valueOf(map(a).get("AttributeName")))
                        .attributeType(String.valueOf(map(a).get("AttributeType"))).build()).toList())
                .keySchema(keySchema(p.get("KeySchema")));
        List<GlobalSecondaryIndex> gsis = list(p.get("GlobalSecondaryIndexes")).stream().map(g -> GlobalSecondaryIndex.builder()
                .indexName(String.valueOf(map(g).get("IndexName")))
                .keySchema(keySchema(map(g).get("KeySchema")))
                .projection(Projection.builder().projectionType(String.valueOf(map(map(g).get("Projection")).get("ProjectionType"))).build())
                .build()).toList();
        if (!gsis.isEmpty()) b.globalSecondaryIndexes(gsis);
        Object view = map(p.get("StreamSpecification")).get("StreamViewType");
        if (view != null) b.streamSpecification(StreamSpecification.builder().streamEnabled(true).streamViewType(String.valueOf(view)).build());
        return b.build();
    }

    private static List<KeySchemaElement> keySchema(Object o) {
        return list(o).stream().map(k -> KeySchemaElement.builder()
                .attributeName(String.valueOf(map(k).get("AttributeName")))
                .keyType(String.valueOf(map(k).get("KeyType"))).build()).toList();
    }

    @Override
    public void close() {
        if (server == null) return;
        try {
            server.stop();
        } catch (Exception e) {
            // stopping is best effort
        }
    }
}
