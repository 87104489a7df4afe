# language: vi
Tính năng: Chuyển trường đối với học sinh trung học phổ thông
  Là cán bộ của Sở Giáo dục và Đào tạo
  Tôi muốn giải quyết hồ sơ chuyển trường trong 40 giờ làm việc kể từ khi tiếp nhận
  Để học sinh được nhập học ở trường mới đúng thời điểm chuyển trường
  (thời hạn tính theo giờ làm việc 07:30–11:30, 13:30–17:00; bỏ qua thứ Bảy, Chủ nhật và ngày lễ)

  Bối cảnh:
    Cho thời điểm hiện tại là "2026-04-22 08:30"

  Kịch bản: Chuyển trường trong tỉnh, trường tiếp nhận đồng ý, trả kết quả trước hạn
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "student_transfer" với người nộp "Trần Thị Mai"
    Thì hồ sơ có trạng thái 1
    Và công việc đang mở là "receipt_check" của vai trò "desk_clerk"
    Khi thời gian trôi tới "2026-04-22 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    # 40 giờ làm việc từ 09:00 thứ Tư 22/4: 22/4 (6 giờ), 23/4, 24/4, [27/4 nghỉ bù Giỗ Tổ], 28/4, 29/4
    # (7,5 giờ mỗi ngày = 36 giờ), [30/4, 1/5 nghỉ lễ], thứ Hai 4/5 thêm 4 giờ → 11:30.
    Thì hồ sơ có trạng thái 4
    Và hạn trả kết quả là "2026-05-04 11:30"
    Và công việc đang mở là "check_dossier" của vai trò "specialist"
    Và hạn xử lý bước "check_dossier" là "2026-04-23 09:30"
    Khi thời gian trôi tới "2026-04-22 14:00"
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"from_other_province": false, "in_transfer_period": true,
       "requested_school": "Trường THPT Nguyễn Huệ",
       "check_note": "Học sinh lớp 11, chuyển theo nơi cư trú mới của gia đình"}
      """
    Thì bước "check_dossier" được xếp loại "early"
    Và công việc đang mở là "school_decision" của vai trò "other_department"
    Và hạn xử lý bước "school_decision" là "2026-04-24 15:00"
    Khi thời gian trôi tới "2026-04-24 10:00"
    Và trường tiếp nhận hoàn thành bước "school_decision" với dữ liệu:
      """
      {"school_accepted": true, "receiving_school": "Trường THPT Nguyễn Huệ",
       "school_note": "Tiếp nhận vào lớp 11A3 từ ngày 04/5/2026"}
      """
    Thì bước "school_decision" được xếp loại "on_time"
    Và hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "early"
    Và kết quả hồ sơ có "receiving_school" là "Trường THPT Nguyễn Huệ"
    Và công việc đang mở là "return_result" của vai trò "desk_clerk"
    Khi thời gian trôi tới "2026-04-24 15:30"
    Và cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "in_person", "returned_to": "Trần Thị Mai"}
      """
    Thì hồ sơ có trạng thái 10
    Và hồ sơ đã kết thúc
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→9, 9→10"
    Và chuỗi băm của nhật ký hồ sơ toàn vẹn

  Kịch bản: Chuyển từ tỉnh khác, lãnh đạo phòng trả lại đề xuất, Lãnh đạo Sở ký giới thiệu đúng hạn
    Khi công dân nộp hồ sơ trực tuyến thủ tục "student_transfer" với người nộp "Hoàng Văn Dũng"
    Thì hạn tiếp nhận là "2026-04-23 09:00"
    Khi thời gian trôi tới "2026-04-22 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4", "TP5"]}
      """
    Thì việc tiếp nhận được xếp loại "on_time"
    Và hạn trả kết quả là "2026-05-04 11:30"
    Khi thời gian trôi tới "2026-04-23 09:00"
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"from_other_province": true, "in_transfer_period": true,
       "requested_school": "Trường THPT chuyên Lê Quý Đôn"}
      """
    Thì công việc đang mở là "propose_school" của vai trò "specialist"
    Khi thời gian trôi tới "2026-04-24 09:00"
    Và chuyên viên hoàn thành bước "propose_school" với dữ liệu:
      """
      {"receiving_school": "Trường THPT chuyên Lê Quý Đôn", "proposal_note": "Theo nguyện vọng của gia đình"}
      """
    Thì công việc đang mở là "head_review" của vai trò "head_of_department"
    Và lãnh đạo phòng không được hoàn thành bước "head_review" khi thiếu "comment" với dữ liệu:
      """
      {"approved": false}
      """
    Khi thời gian trôi tới "2026-04-28 10:00"
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": false,
       "comment": "Trường chuyên chỉ tiếp nhận qua kỳ thi; đề nghị giới thiệu trường gần nơi cư trú"}
      """
    Thì công việc đang mở là "propose_school" của vai trò "specialist"
    Khi thời gian trôi tới "2026-04-29 09:00"
    Và chuyên viên hoàn thành bước "propose_school" với dữ liệu:
      """
      {"receiving_school": "Trường THPT Trần Phú", "proposal_note": "Trường gần nơi cư trú, còn chỉ tiêu lớp 10"}
      """
    Và thời gian trôi tới "2026-04-29 15:00"
    Và lãnh đạo phòng hoàn thành bước "head_review" với dữ liệu:
      """
      {"approved": true}
      """
    Thì công việc đang mở là "director_sign" của vai trò "director"
    # Ký ngay trong buổi sáng ngày hẹn, trước 11:30: đúng hạn.
    Khi thời gian trôi tới "2026-05-04 10:45"
    Và lãnh đạo Sở hoàn thành bước "director_sign" với dữ liệu:
      """
      {"decision_number": "512/SGDĐT-GDTrH", "decision_date": "2026-05-04"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "on_time"
    Và kết quả hồ sơ có "receiving_school" là "Trường THPT Trần Phú"
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "post", "post_tracking": "EB123456789VN", "returned_to": "Hoàng Văn Dũng"}
      """
    Thì hồ sơ có trạng thái 10
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→9, 9→10"

  Kịch bản: Hồ sơ không thuộc thẩm quyền của Sở thì từ chối tiếp nhận
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "student_transfer" với người nộp "Lý Thị Thu"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "refuse", "checked_documents": ["TP1", "TP2"],
       "reason": "Học sinh lớp 8 (trung học cơ sở): hồ sơ chuyển trường nộp tại Phòng Giáo dục và Đào tạo"}
      """
    Thì hồ sơ có trạng thái 3
    Và hồ sơ đã kết thúc
    Và hồ sơ không có hạn trả kết quả
    Và nhật ký hồ sơ có các chuyển trạng thái "1→3"

  Kịch bản: Trường tiếp nhận không đồng ý thì vẫn trả văn bản trả lời có lý do
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "student_transfer" với người nộp "Ngô Thanh Hương"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"from_other_province": false, "in_transfer_period": true, "requested_school": "Trường THPT Chu Văn An"}
      """
    Thì trường tiếp nhận không được hoàn thành bước "school_decision" khi thiếu "school_note" với dữ liệu:
      """
      {"school_accepted": false}
      """
    Khi thời gian trôi tới "2026-04-23 16:00"
    Và trường tiếp nhận hoàn thành bước "school_decision" với dữ liệu:
      """
      {"school_accepted": false, "school_note": "Lớp 10 của trường đã đủ 45 học sinh/lớp theo quy định"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "early"
    Và kết quả hồ sơ có "school_accepted" là false
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "in_person", "returned_to": "Ngô Thanh Hương", "return_note": "Trả văn bản trả lời của nhà trường"}
      """
    Thì hồ sơ có trạng thái 10
    Và hồ sơ đã kết thúc

  Kịch bản: Xin chuyển trường ngoài thời điểm cho phép thì Sở trả lời bằng văn bản, kể cả khi từ tỉnh khác
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "student_transfer" với người nộp "Đặng Quốc Việt"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4", "TP5"]}
      """
    Và chuyên viên hoàn thành bước "check_dossier" với dữ liệu:
      """
      {"from_other_province": true, "in_transfer_period": false,
       "check_note": "Đang giữa học kỳ II; chỉ chuyển trường khi kết thúc học kỳ I hoặc dịp hè"}
      """
    Thì công việc đang mở là "reply_ineligible" của vai trò "head_of_department"
    Và lãnh đạo phòng không được hoàn thành bước "reply_ineligible" khi thiếu "reply_reason" với dữ liệu:
      """
      {"reply_number": "530/SGDĐT-GDTrH"}
      """
    Khi thời gian trôi tới "2026-04-23 10:00"
    Và lãnh đạo phòng hoàn thành bước "reply_ineligible" với dữ liệu:
      """
      {"reply_number": "530/SGDĐT-GDTrH",
       "reply_reason": "Chưa đến thời điểm chuyển trường (kết thúc học kỳ I hoặc dịp hè)"}
      """
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "early"
    Và kết quả hồ sơ có "reply_number" là "530/SGDĐT-GDTrH"
    Và công việc đang mở là "return_result" của vai trò "desk_clerk"
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→9"
    Và chuỗi băm của nhật ký hồ sơ toàn vẹn
