package dev.credits.alerts;

import dev.credits.core.log.Log;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sns.model.MessageAttributeValue;

import java.util.HashMap;
import java.util.Map;

/** Where alerts go: the SNS topic, or (local runner without an SNS endpoint) a clearly marked log line. */
public sealed interface AlertPublisher {
    /** Publishes; returns the message id. Throws on failure, so the caller can retry. */
    String publish(AlertMessage m, String requestId);

    record Sns(SnsClient sns, String topicArn) implements AlertPublisher {
        @Override
        public String publish(AlertMessage m, String requestId) {
            Map<String, MessageAttributeValue> attrs = new HashMap<>();
            m.attributes().forEach((k, v) -> attrs.put(k, MessageAttributeValue.builder().dataType("String").stringValue(v).build()));
            String id = sns.publish(b -> b.topicArn(topicArn).subject(m.subject()).message(m.body()).messageAttributes(attrs)).messageId();
            Log.info("alert_published", requestId, "account", m.accountId(), "alertType", m.kind().wire(), "messageId", id);
            return id;
        }
    }

    record LogOnly() implements AlertPublisher {
        @Override
        public String publish(AlertMessage m, String requestId) {
            Log.warn("ALERT_NOT_SENT_NO_SNS_ENDPOINT", requestId, "account", m.accountId(), "alertType", m.kind().wire(),
                    "subject", m.subject(), "body", m.body());
            return "local-log";
        }
    }
}
