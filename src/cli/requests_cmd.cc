// amanah request create|list|show|move|print

#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cases.h"
#include "app/exchange.h"
#include "app/requests.h"
#include "app/transfers.h"
#include "cli/common.h"

namespace amanah {

namespace {

nlohmann::json RequestJson(const Request& r) {
  return RequestToJson(r, Env::Default()->NowUnixNanos() / 1000000000);
}

// The legal fields, from a JSON file (or - for standard input), at most
// 1 MiB.
Result<nlohmann::json> ReadFields(const std::string& path) {
  std::string text;
  if (path == "-") {
    std::ostringstream os;
    os << std::cin.rdbuf();
    text = os.str();
  } else {
    ASSIGN_OR_RETURN(text, ReadFileToString(Env::Default(), path, 1 << 20));
  }
  if (text.size() > (1 << 20)) {
    return Status::InvalidInput("--fields: larger than 1 MiB");
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidInput(path + ": not JSON");
  return j;
}

int RunCreate(const Globals& g, const RequestArgs& a) {
  RequestDraft d;
  auto type = ParseRequestType(a.type);
  auto profile = ParseProfile(a.profile);
  auto direction = ParseDirection(a.direction);
  for (const Status& s :
       {type.status(), profile.status(), direction.status()}) {
    if (!s.ok()) return Fail(s);
  }
  auto fields = ReadFields(a.fields);
  if (!fields.ok()) return Fail(fields.status());
  d.type = *type;
  d.profile = *profile;
  d.direction = *direction;
  d.reference = a.reference;
  d.fields = std::move(fields).value();
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto r = RequestBook(node->get()).Create(g.actor, a.case_id, d);
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    PrintJson(RequestJson(*r));
  } else {
    std::cout << "created " << r->id << " (" << RequestTypeName(r->type) << ", "
              << RequestStateName(r->state) << ") in case " << r->case_id
              << "\n";
  }
  return 0;
}

int RunList(const Globals& g, const std::string& case_id) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  RequestBook book(node->get());
  auto swept = book.SweepExpired();
  if (!swept.ok()) return Fail(swept.status());
  auto list = case_id.empty() ? book.Open("", 100000) : book.ForCase(case_id);
  if (!list.ok()) return Fail(list.status());
  if (g.json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& r : *list) items.push_back(RequestJson(r));
    PrintJson(items);
    return 0;
  }
  int64_t now = (*node)->env()->NowUnixNanos() / 1000000000;
  for (const auto& r : *list) {
    std::string left = "-";
    if (auto d = r.Deadline()) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.1f h", (*d - now) / 3600.0);
      left = buf;
    }
    std::printf("%-14s %-12s %-13s %-12s %10s  %s\n", r.id.c_str(),
                r.case_id.c_str(), std::string(RequestTypeName(r.type)).c_str(),
                std::string(RequestStateName(r.state)).c_str(), left.c_str(),
                r.reference.c_str());
  }
  return 0;
}

int RunShow(const Globals& g, const std::string& id, bool print) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  RequestBook book(node->get());
  auto r = book.Get(id);
  if (!r.ok()) return Fail(r.status());
  if (!*r) return Fail(Status::NotFound("no request " + id));
  if (print) {
    auto c = CaseBook(node->get()).Get((*r)->case_id);
    if (!c.ok()) return Fail(c.status());
    std::cout << RenderRequestHtml(**r, **c, (*node)->info().name);
    return 0;
  }
  auto history = book.History(id);
  if (!history.ok()) return Fail(history.status());
  nlohmann::json j = RequestJson(**r);
  j["history"] = nlohmann::json::array();
  for (const auto& m : *history) {
    j["history"].push_back({{"from", m.from},
                            {"to", m.to},
                            {"time", m.time},
                            {"actor", m.actor},
                            {"reason", m.reason}});
  }
  PrintJson(j);
  return 0;
}

// Sends an outgoing draft to a pinned peer: the message is queued (and
// delivered by amanah serve), then the request moves to sent.
int RunSend(const Globals& g, const RequestArgs& a) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto id = Exchange(node->get()).Send(g.actor, a.id, a.peer);
  if (!id.ok()) return Fail(id.status());
  auto r = RequestBook(node->get()).Get(a.id);
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    PrintJson({{"request", RequestJson(**r)}, {"message", *id}});
  } else {
    std::cout << a.id << " queued for " << a.peer << " as message " << *id
              << " (amanah outbox shows its delivery)\n";
  }
  return 0;
}

int RunDeliver(const Globals& g, const RequestArgs& a) {
  std::vector<ContentAddress> items;
  for (const auto& text : a.items) {
    auto addr = ContentAddress::Parse(text);
    if (!addr.ok()) return Fail(addr.status());
    items.push_back(*addr);
  }
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto id = Transfers(node->get()).Deliver(g.actor, a.id, items, a.again);
  if (!id.ok()) return Fail(id.status());
  if (g.json) {
    PrintJson({{"request", a.id}, {"message", *id}, {"items", a.items}});
  } else {
    std::cout << items.size() << " object(s) of " << a.id
              << " released; manifest queued as message " << *id
              << " (the peer pulls them; amanah transfers shows it)\n";
  }
  return 0;
}

int RunMove(const Globals& g, const RequestArgs& a) {
  auto to = ParseRequestState(a.to);
  if (!to.ok()) return Fail(to.status());
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto r = Exchange(node->get()).Move(g.actor, a.id, *to, a.reason);
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    PrintJson(RequestJson(*r));
  } else {
    std::cout << r->id << " is now " << RequestStateName(r->state);
    if (auto d = r->Deadline()) {
      std::cout << "; next deadline " << FormatTime(*d * 1000000);
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

void AddRequestCommands(CLI::App& app, Globals& g, RequestArgs& a, int& rc) {
  auto* request = app.add_subcommand(
      "request", "preservation, disclosure, MLA and emergency requests");
  request->require_subcommand(1);

  auto* create = request->add_subcommand("create", "draft or register one");
  create->add_option("--case", a.case_id, "case id")->required();
  create
      ->add_option("--type", a.type,
                   "preservation, disclosure, production, emergency or "
                   "subscriber")
      ->required();
  create->add_option("--profile", a.profile, "budapest, us-2703f or eu")
      ->required();
  create
      ->add_option("--direction", a.direction,
                   "outgoing (a draft we send) or incoming (received)")
      ->required();
  create->add_option("--reference", a.reference, "ticket number");
  create
      ->add_option("--fields", a.fields,
                   "JSON file of the legal fields (docs/requests.md); - "
                   "for standard input")
      ->required();
  create->callback([&] { rc = RunCreate(g, a); });

  auto* list = request->add_subcommand(
      "list", "open requests, most urgent first (or one case's)");
  list->add_option("--case", a.case_id, "only this case, all states");
  list->callback([&] { rc = RunList(g, a.case_id); });

  auto* show = request->add_subcommand("show", "a request and its history");
  show->add_option("id", a.id, "request id")->required();
  show->callback([&] { rc = RunShow(g, a.id, false); });

  auto* print =
      request->add_subcommand("print", "the bilingual HTML page, to stdout");
  print->add_option("id", a.id, "request id")->required();
  print->callback([&] { rc = RunShow(g, a.id, true); });

  auto* move = request->add_subcommand("move", "move to another state");
  move->add_option("id", a.id, "request id")->required();
  move->add_option("--to", a.to, "the new state")->required();
  move->add_option("--reason", a.reason, "why (required to refuse)");
  move->callback([&] { rc = RunMove(g, a); });

  auto* send = request->add_subcommand(
      "send", "send an outgoing draft to a pinned peer node (signed, queued)");
  send->add_option("id", a.id, "request id")->required();
  send->add_option("--to", a.peer, "the peer's node name")->required();
  send->callback([&] { rc = RunSend(g, a); });

  auto* deliver = request->add_subcommand(
      "deliver",
      "deliver evidence to the peer that sent incoming request ID: releases "
      "each object and sends a signed manifest; the peer pulls them");
  deliver->add_option("id", a.id, "request id")->required();
  deliver->add_option("--item", a.items, "sha256:HEX of the case (repeat)")
      ->required();
  deliver->add_flag("--again", a.again,
                    "release objects again that the peer has not confirmed "
                    "(only if it lost them)");
  deliver->callback([&] { rc = RunDeliver(g, a); });
}

}  // namespace amanah
