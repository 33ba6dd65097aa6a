/* The anchor for `scripts/bench gzip`: zlib's own inflate over a gzip file (every member), 1 MiB reads, the
 * output counted and dropped. Built by scripts/bench with the system zlib: cc -O2 zinflate.c -lz */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: zinflate FILE.gz\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    enum { BLOCK = 1 << 20 };
    unsigned char *in = malloc(BLOCK), *out = malloc(BLOCK);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) return 2;
    unsigned long long total = 0;
    size_t n;
    while ((n = fread(in, 1, BLOCK, f)) > 0) {
        z.next_in = in;
        z.avail_in = (uInt)n;
        while (z.avail_in > 0) {
            z.next_out = out;
            z.avail_out = BLOCK;
            int rc = inflate(&z, Z_NO_FLUSH);
            total += BLOCK - z.avail_out;
            if (rc == Z_STREAM_END) inflateReset(&z); /* the next member, if any */
            else if (rc != Z_OK && rc != Z_BUF_ERROR) { fprintf(stderr, "inflate: %d\n", rc); return 1; }
        }
    }
    printf("%llu\n", total);
    return 0;
}
