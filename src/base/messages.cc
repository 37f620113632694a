#include "base/messages.h"

namespace amanah {

namespace {

struct Entry {
  Code code;
  std::string_view en;
  std::string_view ar;
};

constexpr Entry kTitles[] = {
    {Code::kOk, "OK", "تمّ"},
    {Code::kInvalidInput, "The request is not valid", "الطلب غير صالح"},
    {Code::kNotFound, "Not found", "غير موجود"},
    {Code::kConflict, "Conflicts with the current state",
     "يتعارض مع الحالة الراهنة"},
    {Code::kCorruption, "Stored data failed verification",
     "فشل التحقق من البيانات المخزنة"},
    {Code::kPermission, "Not permitted for your role or case",
     "غير مسموح لدورك أو لهذه القضية"},
    {Code::kUnavailable, "Temporarily unavailable; try again",
     "غير متاح مؤقتاً؛ أعد المحاولة"},
    {Code::kIO, "The server could not complete the operation",
     "تعذّر على الخادم إتمام العملية"},
    {Code::kUnauthenticated, "Sign in required", "يلزم تسجيل الدخول"},
    {Code::kTooLarge, "Too large", "الحجم أكبر من المسموح"},
    {Code::kTooManyRequests, "Too many attempts; wait, then try again",
     "محاولات كثيرة؛ انتظر ثم أعد المحاولة"},
};

}  // namespace

Lang LangFromAcceptLanguage(std::string_view header) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(',', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.substr(0, 2) == "ar") return Lang::kArabic;
    if (item.substr(0, 2) == "en") return Lang::kEnglish;
    pos = end + 1;
  }
  return Lang::kEnglish;
}

std::string_view LangTag(Lang lang) {
  return lang == Lang::kArabic ? "ar" : "en";
}

std::string_view CodeTitle(Code code, Lang lang) {
  for (const Entry& e : kTitles) {
    if (e.code == code) return lang == Lang::kArabic ? e.ar : e.en;
  }
  return lang == Lang::kArabic ? "خطأ" : "Error";
}

}  // namespace amanah
