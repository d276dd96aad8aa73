package dev.credits.local;

import dev.credits.alerts.AlertHandler;
import dev.credits.alerts.AlertPublisher;
import dev.credits.core.json.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sns.model.Subscription;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

import java.net.URI;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static dev.credits.local.TestStack.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Soft-limit and usage-stopped alerts end to end, against a real SNS API (moto server, started by the test command):
 * changes go through the HTTP API, the accounts table's stream on the DynamoDB stand-in is polled and handed to the alert
 * handler as real DynamodbEvents, SNS delivers to SQS queues subscribed with the same kind of filter policy as the
 * owners' email subscriptions, and the test counts what each queue received.
 */
@ContractTest
class AlertsTest {
    private static SqsClient sqs;
    private static SnsClient sns;
    private static String topicArn;

    @BeforeAll
    static void emulator() {
        assumeTrue(messagingEndpoint() != null, "MOTO_ENDPOINT is not set: the test command starts moto server and sets it");
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local"));
        sqs = SqsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                .endpointOverride(URI.create(messagingEndpoint())).credentialsProvider(creds).build();
        sns = SnsClient.builder().httpClient(UrlConnectionHttpClient.builder().build()).region(Region.US_EAST_1)
                .endpointOverride(URI.create(messagingEndpoint())).credentialsProvider(creds).build();
        topicArn = runner().functionEnv().get("ALERTS_TOPIC_ARN");
        assertTrue(topicArn.startsWith("arn:aws:sns:"), topicArn);
    }

    /** A queue that receives the account's alerts, filtered on the accountId message attribute like an owner's email. */
    private static String inbox(String account) {
        String url = sqs.createQueue(b -> b.queueName("inbox-" + UUID.randomUUID())).queueUrl();
        String arn = sqs.getQueueAttributes(b -> b.queueUrl(url).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        sns.subscribe(b -> b.topicArn(topicArn).protocol("sqs").endpoint(arn)
                .attributes(Map.of("FilterPolicy", "{\"accountId\":[\"" + account + "\"]}")));
        return url;
    }

    /** Everything delivered to the queue since the last call: the SNS envelopes, parsed. */
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> received(String queueUrl) throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int empty = 0; empty < 2; ) {
            List<Message> msgs = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                    .waitTimeSeconds(deliveryWaitSeconds())).messages();
            if (msgs.isEmpty()) { empty++; Thread.sleep(50); continue; }
            for (Message m : msgs) {
                out.add(Json.parseObject(m.body()));
                sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static String attribute(Map<String, Object> envelope, String name) {
        return (String) ((Map<String, Object>) ((Map<String, Object>) envelope.get("MessageAttributes")).get(name)).get("Value");
    }

    private static String create(String prefix, String softLimit) {
        String id = newAccountId(prefix);
        assertEquals(201, post("/v1/accounts", admin(), "{\"accountId\":\"" + id + "\"" + (softLimit == null ? "" : ",\"softLimit\":" + softLimit) + "}").status());
        return id;
    }

    private static void grant(String id, String credits) {
        assertEquals(201, post("/v1/accounts/" + id + "/grants", admin(), "{\"credits\":" + credits + ",\"reason\":\"t\"}").status());
    }

    private static int spend45(String id) {
        return post("/v1/accounts/" + id + "/usage", metering(), aiEvent(UUID.randomUUID().toString(), "gpt-4o", 100_000, 20_000)).status();
    }

    @Test
    void oneAlertPerDownwardCrossingNoneWhileBelowNoneOnRedeliveryAndOneAgainAfterRearming() throws Exception {
        String a = create("soft", "0.5");
        String bystander = create("bystander", "0.5");
        String inboxA = inbox(a);
        String inboxB = inbox(bystander);
        grant(a, "1");
        grant(bystander, "1");
        drain();
        assertEquals(0, received(inboxA).size(), "created below the soft limit and then funded: no crossing down yet");

        assertEquals(201, spend45(a)); // 0.55, still above 0.5
        drain();
        assertEquals(0, received(inboxA).size());

        assertEquals(201, spend45(a)); // 0.10: crossed
        drain();
        List<Map<String, Object>> first = received(inboxA);
        assertEquals(1, first.size(), first.toString());
        assertEquals(a, attribute(first.get(0), "accountId"));
        assertEquals("soft_limit", attribute(first.get(0), "alertType"));
        assertTrue(((String) first.get(0).get("Subject")).contains("running low"));
        String body = (String) first.get(0).get("Message");
        assertTrue(body.contains("Balance:     0.1 credits") && body.contains("Soft limit:  0.5 credits") && body.contains("top up"), body);

        assertEquals(201, post("/v1/accounts/" + a + "/usage", metering(), unitsEvent("small", 10)).status());
        drain();
        assertEquals(0, received(inboxA).size(), "still below: no second alert");

        // the same stream, delivered again from its start into a fresh handler: nothing new is sent
        redeliverTheWholeStream();
        assertEquals(0, received(inboxA).size(), "no email twice for one crossing");

        grant(a, "1"); // 1.0999: back above, re-armed
        drain();
        assertEquals(0, received(inboxA).size());
        assertEquals(201, spend45(a));
        assertEquals(201, spend45(a)); // 0.1999: crossed again
        drain();
        List<Map<String, Object>> second = received(inboxA);
        assertEquals(1, second.size(), second.toString());
        assertEquals("soft_limit", attribute(second.get(0), "alertType"));

        assertEquals(0, received(inboxB).size(), "another account's owner receives nothing");
    }

    @Test
    void aCrossingBackUpAndDownAgainBeforeTheStreamIsReadStillAlerts() throws Exception {
        String f = create("flicker", "0.5");
        String inbox = inbox(f);
        grant(f, "1");
        drain();
        assertEquals(201, spend45(f));
        assertEquals(201, spend45(f)); // 0.10: crossed
        drain();
        assertEquals(1, received(inbox).size());
        // up to 0.6 and down to 0.15 in quick succession, with no stream processing in between
        grant(f, "0.5");
        assertEquals(201, spend45(f));
        drain();
        assertEquals(1, received(inbox).size(), "the second crossing is not lost, and alerts once");
    }

    /** The whole stream from its start, into a fresh alert handler, unfiltered (a replay, or Lambda redelivering). */
    private static void redeliverTheWholeStream() {
        AlertHandler again = new AlertHandler(runner().dynamo(), storeConfig(), new AlertPublisher.Sns(sns, topicArn), Clock.systemUTC());
        StreamPoller replay = new StreamPoller("AccountsTable", runner().dynamo(), runner().streams(), again, List.of());
        int read = 0;
        for (int n; (n = replay.pollOnce()) > 0; ) read += n;
        assertTrue(read > 5, "the replay read the stream");
    }

    /**
     * Down, back up and down again, all handed to the alert function in ONE batch (no stream processing in between):
     * two crossings, two emails. A state kept on the item cannot tell these apart (each record's image is a snapshot
     * taken before the function wrote anything); the old and new images of each write can.
     */
    @Test
    void downUpDownInOneStreamBatchIsTwoAlertsAndARedeliverySendsNothingMore() throws Exception {
        String h = create("twice", "0.5");
        String inbox = inbox(h);
        grant(h, "1");
        drain();
        // the alert function's event source as the template defines it, positioned at the stream's end now, so the
        // account's next records reach the handler together; it records how many of them each invocation carried
        Template.StreamSource source = Template.read(Template.locate()).functions().stream()
                .filter(f -> f.logicalId().equals("AlertFunction")).findFirst().orElseThrow().streams().get(0);
        AlertHandler handler = new AlertHandler(runner().dynamo(), storeConfig(), new AlertPublisher.Sns(sns, topicArn), Clock.systemUTC());
        List<Long> perInvocation = new ArrayList<>();
        StreamPoller poller = new StreamPoller(source.tableLogicalId(), runner().dynamo(), runner().streams(), (event, ctx) -> {
            long mine = event.getRecords().stream()
                    .filter(r -> h.equals(r.getDynamodb().getKeys().get("accountId").getS())).count();
            if (mine > 0) perInvocation.add(mine);
            return handler.handleRequest(event, ctx);
        }, source.filterPatterns()).fromLatest();

        assertEquals(201, spend45(h)); // 0.55, above
        assertEquals(201, spend45(h)); // 0.10: down
        grant(h, "0.5");               // 0.60: back up
        assertEquals(201, spend45(h)); // 0.15: down again
        assertEquals(201, post("/v1/accounts/" + h + "/usage", metering(), unitsEvent(UUID.randomUUID().toString(), 10)).status()); // still below
        // LocalStack publishes stream records a moment after the write (the moto stand-in before it returns)
        if (StackBackend.localstack()) Thread.sleep(1000);
        for (int pass = 0; pass < 50 && perInvocation.isEmpty(); pass++) if (poller.pollOnce() == 0) Thread.sleep(100);
        while (poller.pollOnce() > 0) { /* until the stream is read */ }
        assertEquals(1, perInvocation.size(), "the account's records reached the function in one batch: " + perInvocation);
        List<Map<String, Object>> got = received(inbox);
        assertEquals(2, got.size(), "one email per downward crossing: " + got);
        for (Map<String, Object> m : got) assertEquals("soft_limit", attribute(m, "alertType"));
        assertTrue(((String) got.get(0).get("Message")).contains("Balance:     0.1 credits"), (String) got.get(0).get("Message"));
        assertTrue(((String) got.get(1).get("Message")).contains("Balance:     0.15 credits"), (String) got.get(1).get("Message"));

        // the same records again: through the runner's own event source, then the whole stream from its start
        drain();
        redeliverTheWholeStream();
        assertEquals(0, received(inbox).size(), "a redelivery sends nothing more");
    }

    @Test
    void closingAnAccountSendsNoRunningLowEmailAndDropsItsSubscription() throws Exception {
        String g = create("closing", "0.5");
        String inbox = inbox(g);
        grant(g, "1");
        assertEquals(200, put("/v1/accounts/" + g + "/limits", owner(g), "{\"alertEmail\":\"bye@example.com\"}").status());
        drain();
        assertEquals(200, post("/v1/accounts/" + g + "/close", owner(g), null).status());
        drain();
        assertEquals(0, received(inbox).size(), "the forfeit of a closed account is not 'running low'");
        assertEquals(List.of(), emailSubscriptions(g));
    }

    @Test
    void raisingTheSoftLimitAboveTheBalanceAlertsOnceLoweringItDoesNot() throws Exception {
        String c = create("raise", "0.5");
        String inbox = inbox(c);
        grant(c, "1");
        drain();
        assertEquals(200, put("/v1/accounts/" + c + "/limits", owner(c), "{\"softLimit\":2}").status());
        drain();
        assertEquals(1, received(inbox).size());
        assertEquals(200, put("/v1/accounts/" + c + "/limits", owner(c), "{\"softLimit\":3}").status());
        drain();
        assertEquals(0, received(inbox).size(), "still below: the threshold moved, the balance did not cross");
        assertEquals(200, put("/v1/accounts/" + c + "/limits", owner(c), "{\"softLimit\":0.1}").status());
        drain();
        assertEquals(0, received(inbox).size(), "lowering below the balance never alerts");
        assertEquals(200, put("/v1/accounts/" + c + "/limits", owner(c), "{\"softLimit\":5}").status());
        drain();
        assertEquals(1, received(inbox).size(), "re-armed by the lowering, so raising alerts again");
    }

    @Test
    void usageStoppedAlertsOncePerEpisode() throws Exception {
        String d = create("stop", null);
        String inbox = inbox(d);
        grant(d, "0.5");
        assertEquals(201, spend45(d));
        assertEquals(402, spend45(d));
        drain();
        List<Map<String, Object>> stop = received(inbox);
        assertEquals(1, stop.size(), stop.toString());
        assertEquals("hard_limit", attribute(stop.get(0), "alertType"));
        assertTrue(((String) stop.get(0).get("Subject")).contains("Usage stopped"));
        assertEquals(402, spend45(d));
        assertEquals(402, spend45(d));
        drain();
        assertEquals(0, received(inbox).size(), "one email per stop, however many refusals");
        grant(d, "1");
        drain();
        assertEquals(201, spend45(d));
        assertEquals(201, spend45(d));
        assertEquals(402, spend45(d));
        drain();
        assertEquals(1, received(inbox).size(), "a new stop after credits came back");
    }

    @Test
    void theAlertEmailIsAFilteredSubscriptionReplacedAndRemovedWithTheLimits() {
        String e = create("email", "1");
        assertEquals(200, put("/v1/accounts/" + e + "/limits", owner(e), "{\"alertEmail\":\"first@example.com\"}").status());
        assertEquals(List.of("first@example.com"), emailSubscriptions(e));
        assertEquals(200, put("/v1/accounts/" + e + "/limits", owner(e), "{\"alertEmail\":\"second@example.com\"}").status());
        assertEquals(List.of("second@example.com"), emailSubscriptions(e));
        assertEquals(200, put("/v1/accounts/" + e + "/limits", owner(e), "{\"alertEmail\":null}").status());
        assertEquals(List.of(), emailSubscriptions(e));
    }

    private static List<String> emailSubscriptions(String account) {
        List<String> out = new ArrayList<>();
        for (Subscription s : sns.listSubscriptionsByTopicPaginator(b -> b.topicArn(topicArn)).subscriptions()) {
            if (!"email".equals(s.protocol())) continue;
            String policy = sns.getSubscriptionAttributes(b -> b.subscriptionArn(s.subscriptionArn())).attributes().get("FilterPolicy");
            if (policy != null && policy.contains("\"" + account + "\"")) out.add(s.endpoint());
        }
        return out;
    }
}
