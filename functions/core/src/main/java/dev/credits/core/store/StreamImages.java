package dev.credits.core.store;

import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.HashMap;
import java.util.Map;

/** Converts the Lambda event library's DynamoDB stream images to the SDK's attribute values. */
public final class StreamImages {
    private StreamImages() {}

    /** Lambda's event model of an attribute value, as the SDK's. */
    public static Map<String, AttributeValue> toSdk(Map<String, com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue> in) {
        Map<String, AttributeValue> out = new HashMap<>();
        in.forEach((k, v) -> out.put(k, toSdk(v)));
        return out;
    }

    public static AttributeValue toSdk(com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue v) {
        AttributeValue.Builder b = AttributeValue.builder();
        if (v.getS() != null) return b.s(v.getS()).build();
        if (v.getN() != null) return b.n(v.getN()).build();
        if (v.getBOOL() != null) return b.bool(v.getBOOL()).build();
        if (v.getNULL() != null) return b.nul(v.getNULL()).build();
        if (v.getM() != null) return b.m(toSdk(v.getM())).build();
        if (v.getL() != null) return b.l(v.getL().stream().map(StreamImages::toSdk).toList()).build();
        if (v.getSS() != null) return b.ss(v.getSS()).build();
        if (v.getNS() != null) return b.ns(v.getNS()).build();
        return b.nul(true).build();
    }
}
