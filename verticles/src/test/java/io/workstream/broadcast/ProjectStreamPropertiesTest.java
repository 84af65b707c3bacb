package io.workstream.broadcast;

import io.workstream.protocol.v1.ChangeEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/** However the cluster reorders or repeats a project's events, followers see current+1..n once each, in order. */
class ProjectStreamPropertiesTest {

  @Test
  void emitsEverySeqAfterTheStartOnceAndInOrder() {
    qt().withExamples(1_000).forAll(integers().between(1, 300), integers().between(0, 50), longs().all())
      .checkAssert((n, startAt, seed) -> {
        long current = Math.min(startAt, n);
        Random random = new Random(seed);
        List<ChangeEvent> arrivals = new ArrayList<>();
        for (long seq = 1; seq <= n; seq++) {
          ChangeEvent event = ChangeEvent.newBuilder().setSeq(seq).build();
          arrivals.add(event);
          if (random.nextInt(5) == 0) {
            arrivals.add(event);
          }
        }
        Collections.shuffle(arrivals, random);
        int beforeStart = random.nextInt(arrivals.size() + 1);

        ProjectStream stream = new ProjectStream("tenant", "project");
        List<Long> emitted = new ArrayList<>();
        arrivals.subList(0, beforeStart).forEach(e -> stream.accept(e, x -> emitted.add(x.getSeq())));
        assertEquals(List.of(), emitted, "nothing goes out before the stream knows where it starts");
        stream.start(current, x -> emitted.add(x.getSeq()));
        arrivals.subList(beforeStart, arrivals.size()).forEach(e -> stream.accept(e, x -> emitted.add(x.getSeq())));

        assertEquals(LongStream.rangeClosed(current + 1, n).boxed().toList(), emitted);
        assertEquals(false, stream.hasGap());
      });
  }

  @Test
  void skippingAnUnrecoverableGapResumesAfterIt() {
    ProjectStream stream = new ProjectStream("tenant", "project");
    List<Long> emitted = new ArrayList<>();
    stream.start(0, x -> emitted.add(x.getSeq()));
    for (long seq : new long[]{1, 4, 5}) {
      stream.accept(ChangeEvent.newBuilder().setSeq(seq).build(), x -> emitted.add(x.getSeq()));
    }
    assertEquals(List.of(1L), emitted);
    assertEquals(3, stream.gapEnd());
    stream.skipGap(x -> emitted.add(x.getSeq()));
    assertEquals(List.of(1L, 4L, 5L), emitted);
  }
}
