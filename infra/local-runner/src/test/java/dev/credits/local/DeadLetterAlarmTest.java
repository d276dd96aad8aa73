package dev.credits.local;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.credits.local.Template.map;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A stream batch that exhausts its retries leaves only a pointer in its dead-letter queue, and the stream forgets the
 * records after 24 hours: somebody must be told at once. Every on-failure destination of a stream-fed function has an
 * alarm on its visible messages, notifying the operators' topic when one is configured.
 */
class DeadLetterAlarmTest {
    private static final Template TEMPLATE = Template.read(Template.locate());

    private static Map<String, Map<String, Object>> ofType(String type) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        TEMPLATE.resources().forEach((id, r) -> { if (type.equals(map(r).get("Type"))) out.put(id, map(map(r).get("Properties"))); });
        return out;
    }

    /** Logical ids of the queues that stream event sources send failed batches to. */
    private static List<String> deadLetterQueues() {
        List<String> out = new ArrayList<>();
        ofType("AWS::Serverless::Function").forEach((id, f) -> map(f.get("Events")).values().forEach(e -> {
            Map<String, Object> event = map(e);
            if (!"DynamoDB".equals(event.get("Type"))) return;
            Object dest = map(map(map(event.get("Properties")).get("DestinationConfig")).get("OnFailure")).get("Destination");
            Object att = map(dest).get("Fn::GetAtt");
            String text = att instanceof List<?> l ? l.get(0) + "." + l.get(1) : att instanceof String s ? s : null;
            assertNotNull(text, id + ": a stream event source without an on-failure queue loses a failed batch silently");
            out.add(text.substring(0, text.indexOf('.')));
        }));
        return out;
    }

    @Test
    void everyStreamDeadLetterQueueAlarmsOnItsFirstMessageAndOnEachNewOne() {
        List<String> queues = deadLetterQueues();
        assertEquals(List.of("AggregatorDeadLetters", "AlertDeadLetters"), queues.stream().sorted().toList());
        Map<String, Map<String, Object>> alarms = ofType("AWS::CloudWatch::Alarm");
        for (String queue : queues) for (String metric : List.of("ApproximateNumberOfMessagesVisible", "NumberOfMessagesSent")) {
            // visible: while any batch waits; sent: each new one (the first stays in ALARM while an old batch waits)
            Map<String, Object> alarm = alarms.values().stream().filter(a -> metric.equals(a.get("MetricName"))).filter(a -> {
                Object dims = a.get("Dimensions");
                if (!(dims instanceof List<?> l) || l.size() != 1) return false;
                Object value = map(map(l.get(0)).get("Value")).get("Fn::GetAtt");
                String text = value instanceof List<?> v ? v.get(0) + "." + v.get(1) : String.valueOf(value);
                return text.equals(queue + ".QueueName");
            }).findFirst().orElse(null);
            assertNotNull(alarm, queue + " has no alarm on " + metric);
            assertEquals("AWS/SQS", alarm.get("Namespace"), queue);
            assertEquals("GreaterThanThreshold", alarm.get("ComparisonOperator"), queue);
            assertEquals(0, ((Number) alarm.get("Threshold")).intValue(), queue + ": the first message alarms");
            assertTrue(((Number) alarm.get("Period")).intValue() <= 300, queue + ": within minutes, not hours");
            assertEquals("notBreaching", alarm.get("TreatMissingData"), queue);
            assertTrue(String.valueOf(alarm.get("AlarmActions")).contains("OperatorsTopicArn"), queue + ": notifies the operators' topic");
            assertTrue(String.valueOf(alarm.get("AlarmDescription")).contains("make redrive"), queue + ": says what to do");
        }
    }
}
