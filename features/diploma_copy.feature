# language: vi
Tính năng: Cấp bản sao văn bằng, chứng chỉ từ sổ gốc
  Là cán bộ một cửa của Sở Giáo dục và Đào tạo
  Tôi muốn tiếp nhận, xử lý và trả kết quả yêu cầu cấp bản sao văn bằng
  Để công dân nhận bản sao đúng thời hạn luật định

  Bối cảnh:
    Cho thời điểm hiện tại là "2026-03-02 09:00"

  Kịch bản: Hồ sơ trực tuyến được giải quyết đúng hạn
    Khi công dân nộp hồ sơ trực tuyến thủ tục "diploma_copy" với người nộp "Nguyễn Văn An"
    Thì hồ sơ có trạng thái 1
    Và mã hồ sơ có dạng "H99.12-260302-\d{4}"
    Và hạn tiếp nhận là "2026-03-03 09:30"
    Và công việc đang mở là "receipt_check" của vai trò "desk_clerk"
    Khi thời gian trôi tới "2026-03-02 10:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # Nhận 10:00 thứ Hai 02/03, trước 15:00 → trả trong ngày: 17:00 02/03.
    Thì hồ sơ có trạng thái 4
    Và hạn trả kết quả là "2026-03-02 17:00"
    Và công việc đang mở là "verify_register" của vai trò "specialist"
    Khi thời gian trôi tới "2026-03-02 13:45"
    Và chuyên viên hoàn thành bước "verify_register" với dữ liệu:
      """
      {"found": true, "register_ref": "Sổ gốc 2015, số 1234", "copies": 2}
      """
    Thì công việc đang mở là "approve_copy" của vai trò "head_of_department"
    Khi thời gian trôi tới "2026-03-02 15:00"
    Và lãnh đạo phòng hoàn thành bước "approve_copy" với dữ liệu:
      """
      {"approved": true}
      """
    # Có kết quả 15:00 cùng ngày hẹn (≤ 17:00) → đúng hạn.
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "on_time"
    Và công việc đang mở là "return_result" của vai trò "desk_clerk"
    Khi cán bộ một cửa hoàn thành bước "return_result" với dữ liệu:
      """
      {"method": "in_person", "returned_to": "Nguyễn Văn An"}
      """
    Thì hồ sơ có trạng thái 10
    Và hồ sơ đã kết thúc
    Và nhật ký hồ sơ có các chuyển trạng thái "1→2, 2→4, 4→9, 9→10"
    Và chuỗi băm của nhật ký hồ sơ toàn vẹn

  Kịch bản: Không tìm thấy văn bằng trong sổ gốc thì từ chối
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Lê Thị Hoa"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    Và chuyên viên hoàn thành bước "verify_register" với dữ liệu:
      """
      {"found": false, "verify_note": "Không có tên trong sổ gốc năm 2015"}
      """
    Thì công việc đang mở là "confirm_refusal" của vai trò "head_of_department"
    Khi lãnh đạo phòng hoàn thành bước "confirm_refusal" với dữ liệu:
      """
      {"refusal_confirmed": true, "refusal_reason": "Không tìm thấy văn bằng trong sổ gốc"}
      """
    Thì hồ sơ đã kết thúc

  Kịch bản: Cán bộ một cửa không được làm thay chuyên viên
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Phạm Minh Tuấn"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    Thì cán bộ một cửa không được hoàn thành bước "verify_register"
    Và công việc đang mở là "verify_register" của vai trò "specialist"

  Kịch bản: Hồ sơ trực tuyến quá 8 giờ làm việc chưa tiếp nhận bị gắn cờ
    Khi công dân nộp hồ sơ trực tuyến thủ tục "diploma_copy" với người nộp "Đỗ Văn Nam"
    Và thời gian trôi tới "2026-03-03 09:30"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ không bị gắn cờ "receipt_overdue"
    Khi thời gian trôi tới "2026-03-03 09:31"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ bị gắn cờ "receipt_overdue"
    Và nhật ký hồ sơ có sự kiện "sla_breach"

  Kịch bản: Yêu cầu cấp nhiều bản được cộng thêm 2 ngày làm việc, qua kỳ nghỉ 30/4 – 1/5
    Cho thời điểm hiện tại là "2026-04-24 10:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Trần Quốc Bảo"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # Nhận 10:00 thứ Sáu 24/04 trước 15:00 → 17:00 24/04.
    Thì hạn trả kết quả là "2026-04-24 17:00"
    Khi thời gian trôi tới "2026-04-24 14:00"
    Và chuyên viên hoàn thành bước "verify_register" với dữ liệu:
      """
      {"found": true, "register_ref": "Sổ gốc 2010, số 88", "copies": 30, "bulk": true}
      """
    # Cộng 2 ngày làm việc vào hẹn 17:00 24/04: 27/04 nghỉ bù Giỗ Tổ → hết ngày 28/04, 29/04, tức
    # hết giờ làm việc 29/04 (không phải 07:30 04/05, cùng lượng giờ làm việc nhưng in sang ngày khác).
    Thì hạn trả kết quả là "2026-04-29 17:00"
    Và nhật ký hồ sơ có sự kiện "due_set"
    Khi thời gian trôi tới "2026-04-29 11:00"
    Và hệ thống kích hoạt các hẹn giờ đến hạn
    Thì hồ sơ không bị gắn cờ "overdue"
    Khi lãnh đạo phòng hoàn thành bước "approve_copy" với dữ liệu:
      """
      {"approved": true}
      """
    Thì hồ sơ có trạng thái 9
    # Xong 11:00 ngày 29/04, chính ngày hẹn: đúng hạn (trước hạn là xong vào một ngày trước ngày hẹn).
    Và hồ sơ được xếp loại "on_time"
    Và chuỗi băm của nhật ký hồ sơ toàn vẹn
