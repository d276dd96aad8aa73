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

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.credits.local.Template.list;
import static dev.credits.local.Template.map;

/**
 * The DynamoDB stand-in: moto server (Apache-2.0, pinned in infra/requirements-dev.txt) started by
 * infra/standin/moto_dynamodb.py, which runs every request alone (moto is exact only one request at a time; DynamoDB's
 * transactions are serializable, so that is a legal execution) and is reached over HTTP at an endpoint, as a
 * deployed function reaches DynamoDB. DynamoDB Local may not be used (the vendor's own terms, not an open-source
 * licence; the build bans it). Memory only: nothing is kept between runs. Tables are created from template.yaml's
 * definitions; a table's name is its logical id. {@link #external} names a DynamoDB API that runs elsewhere instead,
 * with the same tables and streams.
 */
public final class LocalDynamo implements AutoCloseable {
    /** How long the stand-in may take to answer its first request (Python starting and importing moto). */
    private static final long START_TIMEOUT_MILLIS = 60_000;

    /** null when the DynamoDB API is not ours to run (an external endpoint) */
    private final Process server;
    private final String endpoint;

    private LocalDynamo(Process server, String endpoint) {
        this.server = server;
        this.endpoint = endpoint;
    }

    /** A DynamoDB API (with its Streams API on the same endpoint) that someone else runs. */
    public static LocalDynamo external(String endpoint) {
        return new LocalDynamo(null, endpoint);
    }

    /**
     * Starts the stand-in on a free loopback port and waits until it answers. It exits by itself when this JVM does
     * (it watches our process id), so a killed test run leaves nothing behind.
     */
    public static LocalDynamo start() {
        standInCredentials();
        Path root = Template.locate().getParent();
        Path python = root.resolve(".venv/bin/python");
        Path launcher = root.resolve("infra/standin/moto_dynamodb.py");
        if (!Files.isExecutable(python)) {
            throw new IllegalStateException("the DynamoDB stand-in needs moto in " + python.getParent().getParent()
                    + ": run `make venv` (make run and make test do it themselves)");
        }
        Process p = null;
        try {
            int port = freePort();
            Path log = root.resolve(".local/moto-dynamodb.log");
            Files.createDirectories(log.getParent());
            p = new ProcessBuilder(python.toString(), launcher.toString(), "--port", String.valueOf(port),
                    "--parent-pid", String.valueOf(ProcessHandle.current().pid()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            String endpoint = "http://127.0.0.1:" + port;
            awaitReady(p, endpoint, log);
            LocalDynamo d = new LocalDynamo(p, endpoint);
            Process started = p;
            Runtime.getRuntime().addShutdownHook(new Thread(started::destroy));
            return d;
        } catch (IOException e) {
            if (p != null) p.destroyForcibly();
            throw new IllegalStateException("the DynamoDB stand-in (moto) did not start", e);
        }
    }

    /**
     * The functions take credentials from the SDK's default chain, as deployed. In a JVM that runs them against the
     * stand-ins (the runner, the tests, the benchmarks) the chain's first link, the system properties, holds the dummy
     * keys the stand-ins accept, unless someone set their own.
     */
    public static void standInCredentials() {
        if (System.getProperty("aws.accessKeyId") == null) {
            System.setProperty("aws.accessKeyId", "local");
            System.setProperty("aws.secretAccessKey", "local");
        }
    }

    /** Polls the stand-in's own page until it answers, the process dies, or the start timeout passes. */
    private static void awaitReady(Process p, String endpoint, Path log) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
        while (System.currentTimeMillis() < deadline) {
            if (!p.isAlive()) {
                throw new IOException("moto exited with status " + p.exitValue() + ": " + tail(log));
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/moto-api/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) return;
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for moto", e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for moto", e);
            }
        }
        p.destroyForcibly();
        throw new IOException("moto did not answer within " + START_TIMEOUT_MILLIS + " ms: " + tail(log));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log at " + log + ")";
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

    /** Creates each table of the template (skipping those that exist on an external endpoint). */
    public void createTables(Template template, DynamoDbClient dynamo) {
        for (Template.Table t : template.tables()) {
            try {
                dynamo.createTable(toRequest(t));
            } catch (ResourceInUseException exists) {
                // an external endpoint that already has the table (a LocalStack or runner left running)
            }
            // moto answers ACTIVE at once; another endpoint may take a moment, like the real service
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
        server.destroy();
        try {
            if (!server.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) server.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            server.destroyForcibly();
        }
    }
}
