// Main program.
#include <iostream>
#include <string>

/* A block comment
 * over three lines.
 */
namespace inventory {

const char *kGlob = "src/**/*.cpp";  // marker inside a string
const char kSlash = '/';
const std::string kRaw = R"(raw /* not a comment */ string)";

class Store {
 public:
  explicit Store(int size) : size_(size) {}

  int Size() const { return size_; }  /* trailing */

  bool Check(int a, int b) const {
    return a > 0 && (b > 0 || a == b) ? true : false;
  }

 private:
  int size_;
};

}  // namespace inventory

int main(int argc, char **argv) {
  inventory::Store store(argc);
  if (store.Check(argc, 1)) {
    std::cout << "/* looks like a comment */" << std::endl;
  }
  const char *multi = "line one \
line two";
  std::cout << multi << kGlob << kSlash << kRaw << std::endl;
  return 0;
}
