package dev.credits.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every HTTP request the load run makes, classified: what the mix asked for (2xx, or a 402/409 the op meant to
 * provoke and the answer justified) is fine; a 5xx, a transport failure (no answer, timeout) and anything else
 * (a status the op did not expect, or an answer that contradicts the driver's books) are errors.
 */
final class LoadStats {
    enum Outcome { OK, INTENDED, SERVER_ERROR, TRANSPORT, UNEXPECTED }

    /** Latencies in microseconds, growable. */
    static final class Lat {
        long[] v = new long[1024];
        int n;
        void add(long micros) {
            if (n == v.length) v = Arrays.copyOf(v, n * 2);
            v[n++] = micros;
        }
        long[] sorted() {
            long[] s = Arrays.copyOf(v, n);
            Arrays.sort(s);
            return s;
        }
    }

    static final class Counts {
        long requests, ok, intended, serverErrors, transport, unexpected;
        final Map<String, Long> statuses = new TreeMap<>();
        final Lat lat = new Lat();
        long errors() { return serverErrors + transport + unexpected; }
        void add(int status, long micros, Outcome o) {
            requests++;
            switch (o) {
                case OK -> ok++;
                case INTENDED -> intended++;
                case SERVER_ERROR -> serverErrors++;
                case TRANSPORT -> transport++;
                case UNEXPECTED -> unexpected++;
            }
            statuses.merge(status < 0 ? "transport" : Integer.toString(status), 1L, Long::sum);
            if (status >= 0) lat.add(micros);
        }
    }

    private Counts window = new Counts();
    private long windowOps;
    private long windowLateOps;
    private long windowMaxLagMicros;
    final Counts total = new Counts();
    final Map<String, Counts> byKind = new LinkedHashMap<>();
    final Map<String, Long> intendedByCode = new TreeMap<>();
    /** The first unexpected answers, for the report (never tokens: the route, status and body only). */
    final java.util.List<String> firstProblems = new java.util.ArrayList<>();
    long problems;

    synchronized void record(String kind, int status, long micros, Outcome o) {
        window.add(status, micros, o);
        total.add(status, micros, o);
        byKind.computeIfAbsent(kind, k -> new Counts()).add(status, micros, o);
    }

    synchronized void intended(String code) { intendedByCode.merge(code, 1L, Long::sum); }

    synchronized void op(long lagMicros) {
        windowOps++;
        if (lagMicros > 100_000) windowLateOps++;
        windowMaxLagMicros = Math.max(windowMaxLagMicros, lagMicros);
    }

    synchronized void problem(String what) {
        problems++;
        if (firstProblems.size() < 30) firstProblems.add(what);
        if (problems <= 10) Report.progress("PROBLEM: " + what);
    }

    record WindowSnapshot(Counts counts, long ops, long lateOps, long maxLagMicros) {}

    synchronized WindowSnapshot swap() {
        WindowSnapshot s = new WindowSnapshot(window, windowOps, windowLateOps, windowMaxLagMicros);
        window = new Counts();
        windowOps = 0;
        windowLateOps = 0;
        windowMaxLagMicros = 0;
        return s;
    }
}
