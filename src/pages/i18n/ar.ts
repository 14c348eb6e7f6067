import type { Dictionary } from "./dictionary";

/** Names from other scripts are isolated (U+2068 … U+2069) so they do not reorder the sentence. */
const q = (text: string) => `«\u2068${text}\u2069»`;

export default {
  languageName: "العربية",
  dir: "rtl",
  recipientLabel: "العنوان",
  onBehalfOf: (organization) => `نيابةً عن ${q(organization)}`,
  privacyPolicy: "سياسة الخصوصية",
  continue: "متابعة",
  confirmTitle: "يُرجى تأكيد موافقتك",
  confirmIntro: (topic) => `لقد طلبتَ الاشتراك في ${q(topic)}. يُرجى التأكيد بالضغط على الزر أدناه.`,
  confirmButton: "نعم، أؤكد",
  confirmNote: "لن يُحفظ أي شيء قبل أن تضغط على الزر. إن لم تطلب ذلك، فأغلق هذه الصفحة ببساطة.",
  successTitle: "شكرًا لك، تم تأكيد موافقتك",
  successBody: (topic) => `سُجِّلت موافقتك على ${q(topic)}. يمكنك سحبها في أي وقت.`,
  alreadyConfirmedTitle: "تم التأكيد مسبقًا",
  alreadyConfirmedBody: (topic) => `سبق أن أكّدت موافقتك على ${q(topic)}. لا حاجة إلى أي إجراء آخر.`,
  withdrawnTitle: "تم سحب الموافقة",
  withdrawnBody: (topic) => `لقد سحبتَ موافقتك على ${q(topic)} بعد إرسال هذا الرابط، لذا لم يعد من الممكن تأكيدها.`,
  expiredTitle: "انتهت صلاحية هذا الرابط",
  expiredBody: "روابط التأكيد صالحة لمدة محدودة فقط، وهذا الرابط لم يعد صالحًا.",
  expiredNextSteps: "لإعطاء موافقتك، سجّل مرة أخرى حيث سجّلت أول مرة، وستصلك رسالة تأكيد جديدة.",
  invalidTitle: "هذا الرابط غير صالح",
  invalidBody: "الرابط غير مكتمل أو تم تغييره. يُرجى فتحه مرة أخرى من الرسالة، أو نسخ الرابط كاملًا في متصفحك.",
  tooLargeTitle: "الطلب كبير جدًا",
  tooLargeBody: "لم يُسجَّل أي شيء. يُرجى فتح الرابط مرة أخرى من الرسالة واستخدام الزر الموجود في الصفحة.",
  tooManyRequestsTitle: "طلبات كثيرة جدًا",
  tooManyRequestsBody: (seconds) => `وصلت طلبات كثيرة جدًا من اتصالك في وقت قصير، لذلك لم يُسجَّل أي شيء. يُرجى الانتظار ${seconds} ثانية ثم المحاولة مرة أخرى.`,
  optOutTitle: "إلغاء الاشتراك",
  optOutIntro: (topic) => `هل تريد سحب موافقتك على ${q(topic)}؟`,
  optOutButton: "نعم، ألغِ اشتراكي",
  optOutSuccessTitle: "تم إلغاء اشتراكك",
  optOutSuccessBody: (topic) => `تم سحب موافقتك على ${q(topic)}.`,
} satisfies Dictionary;
