// The ceiling of the HTTP layer for uploads: a cpp-httplib server (the
// library amanah serve uses) whose PATCH handler reads the body through the
// same ContentReader and throws it away. bench/http_bench.sh runs it beside
// amanah's upload, so the ratio shows what the HTTP layer leaves.
//
//   http_sink PORT      serves until killed

#include <httplib.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: http_sink PORT\n");
    return 2;
  }
  httplib::Server http;
  http.set_payload_max_length(size_t{1} << 44);
  http.set_tcp_nodelay(true);
  http.Patch("/sink", [](const httplib::Request&, httplib::Response& res,
                         const httplib::ContentReader& reader) {
    size_t total = 0;
    reader([&](const char*, size_t n) {
      total += n;
      return true;
    });
    res.set_content(std::to_string(total) + "\n", "text/plain");
  });
  return http.listen("127.0.0.1", std::atoi(argv[1])) ? 0 : 1;
}
