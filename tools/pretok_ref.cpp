// pretok_ref.cpp — runs llama.cpp's own pre-tokenizer (unicode_regex_split,
// exported by the libllama.so that llama-cpp-python ships) on test strings,
// for tools/gen_pretok_golden.py, which compiles and drives it.  Not part of
// tinglado; nothing here is linked into it.
//
// stdin, one record per line, every string as hex:
//   R <n> <regex1> ... <regexn>   set the regex list
//   T <text>                      split text; prints "<piece1> <piece2> ..."
//                                 (hex), or "!" if llama.cpp throws
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

std::vector<std::string> unicode_regex_split(const std::string &text,
                                             const std::vector<std::string> &regex_exprs,
                                             bool byte_encode);

static std::string unhex(const std::string &h) {
    std::string out;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
        out.push_back((char)std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

static std::string hex(const std::string &s) {
    static const char *d = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out.push_back(d[c >> 4]);
        out.push_back(d[c & 15]);
    }
    return out;
}

int main() {
    std::vector<std::string> rx;
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string op;
        in >> op;
        if (op == "R") {
            size_t n;
            in >> n;
            rx.assign(n, "");
            for (size_t i = 0; i < n; i++) {
                std::string h;
                in >> h;
                rx[i] = unhex(h);
            }
        } else if (op == "T") {
            std::string h;
            in >> h;
            try {
                std::vector<std::string> parts = unicode_regex_split(unhex(h), rx, false);
                std::string sep;
                for (const auto &p : parts) {
                    std::cout << sep << hex(p);
                    sep = " ";
                }
                std::cout << "\n";
            } catch (const std::exception &) {
                std::cout << "!\n";
            }
            std::cout.flush();
        }
    }
    return 0;
}
