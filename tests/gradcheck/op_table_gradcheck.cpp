// Walks the op table: every op's gradient against central differences, and the ops on the
// gradient-penalty path to second order. Fails when ops.h declares an op the table lacks.
#include <catch2/catch.hpp>
#include <set>

#include "op_cases.h"

TEST_CASE("every op declared in ops.h is in the op table", "[gradcheck]") {
  std::set<std::string> in_table;
  for (const auto& c : test::op_cases()) in_table.insert(c.op);
  // Convenience wrappers whose backward is another op's: covered through that op.
  const std::set<std::string> wrappers{"upsample_nearest2d_x2"};
  for (const std::string& op : test::declared_ops()) {
    INFO("op " << op << " is declared in engine/include/engine/ops.h but has no case in tests/op_cases.cpp");
    CHECK((in_table.count(op) > 0 || wrappers.count(op) > 0));
  }
}

TEST_CASE("op table: first-order gradients match finite differences", "[gradcheck]") {
  for (const auto& c : test::op_cases()) {
    DYNAMIC_SECTION(c.op << " (" << c.label << ")") {
      test::gradcheck(c.fn, test::make_inputs(c, 11), c.op + " " + c.label, c.tolerance);
    }
  }
}

TEST_CASE("op table: second-order gradients on the gradient-penalty path", "[gradcheck]") {
  for (const auto& c : test::op_cases()) {
    if (!c.second_order) continue;
    DYNAMIC_SECTION(c.op << " (" << c.label << ")") {
      test::gradgradcheck(c.fn, test::make_inputs(c, 13), c.op + " " + c.label, c.tolerance);
    }
  }
}
