package dev.credits.core.store;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The functions' DynamoDB client reaches the endpoint the environment names (AWS_ENDPOINT_URL_DYNAMODB, the SDK's own
 * variable) and signs with credentials from the SDK's default chain, also when an endpoint is set: there is no
 * "local" branch with built-in keys. The chain's first link, system properties, stands in for the role's keys here.
 */
class ClientsTest {
    private HttpServer server;
    private final List<String> authorizations = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

    @Test
    void theClientSignsWithTheDefaultChainsKeysAtTheConfiguredEndpoint() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", x -> {
            authorizations.add(String.valueOf(x.getRequestHeaders().getFirst("Authorization")));
            byte[] body = "{\"TableNames\":[]}".getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.0");
            x.sendResponseHeaders(200, body.length);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        System.setProperty("aws.accessKeyId", "AKIDFROMTHECHAIN");
        System.setProperty("aws.secretAccessKey", "secret-from-the-chain");
        String endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
        StoreConfig config = StoreConfig.fromEnv(Map.of("ACCOUNTS_TABLE", "A", "LEDGER_TABLE", "L",
                "AWS_REGION", "eu-west-1", StoreConfig.ENDPOINT_VARIABLE, endpoint));
        assertEquals(endpoint, config.endpoint());
        try (DynamoDbClient client = Clients.dynamo(config)) {
            client.listTables();
        }
        assertEquals(1, authorizations.size(), "one request reached the configured endpoint");
        assertTrue(authorizations.get(0).contains("Credential=AKIDFROMTHECHAIN/"), authorizations.get(0));
        assertTrue(authorizations.get(0).contains("/eu-west-1/dynamodb/aws4_request"), authorizations.get(0));
    }
}
