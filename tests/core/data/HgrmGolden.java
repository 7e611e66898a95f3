import org.HdrHistogram.Histogram;
import java.io.*;
public class HgrmGolden {
  public static void main(String[] a) throws Exception {
    // dataset 1: values 1..10000 (ns), lowest 1, highest 3600000000000, 3 digits, scaled to us
    Histogram h = new Histogram(1, 3600000000000L, 3);
    for (long v = 1; v <= 10000; ++v) h.recordValue(v);
    try (PrintStream p = new PrintStream(new FileOutputStream("linear_1_10000.hgrm"))) { h.outputPercentileDistribution(p, 1000.0); }
    // dataset 2: deterministic LCG, log-spread, 2 digits, unit 1
    Histogram g = new Histogram(1, 10000000000L, 2);
    long x = 12345;
    for (int i = 0; i < 100000; ++i) {
      x = (x * 6364136223846793005L + 1442695040888963407L);
      long r = (x >>> 33);
      int shift = (int)(r % 30);
      long v = ((r >>> 5) & ((1L << shift) - 1)) + 1;
      g.recordValue(v);
    }
    try (PrintStream p = new PrintStream(new FileOutputStream("lcg_2digits.hgrm"))) { g.outputPercentileDistribution(p, 1.0); }
    // dataset 3: few values, lowest 1000 (unit magnitude > 0), 4 digits
    Histogram k = new Histogram(1000, 100000000L, 4);
    long[] vals = {1000, 1500, 2000, 2000, 999999, 50000000, 12345678};
    for (long v : vals) k.recordValue(v);
    try (PrintStream p = new PrintStream(new FileOutputStream("sparse_4digits.hgrm"))) { k.outputPercentileDistribution(p, 1000.0); }
  }
}
