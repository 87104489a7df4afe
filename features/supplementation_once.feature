# language: vi
Tính năng: Yêu cầu bổ sung hồ sơ một lần, nêu đủ mọi thành phần còn thiếu
  Là cán bộ một cửa của Sở Giáo dục và Đào tạo
  Tôi muốn hướng dẫn bổ sung một lần, bằng văn bản (Mẫu 02), đầy đủ mọi thành phần còn thiếu
  Để công dân không phải đi lại nhiều lần (yêu cầu bổ sung nhiều lần là trái quy định)

  Kịch bản: Cán bộ một cửa chỉ được yêu cầu bổ sung một lần khi tiếp nhận
    Cho thời điểm hiện tại là "2026-03-02 08:00"
    Khi công dân nộp hồ sơ trực tuyến thủ tục "diploma_copy" với người nộp "Vũ Thị Hoa"
    Thì cán bộ một cửa không được hoàn thành bước "receipt_check" khi thiếu "missing_documents" với dữ liệu:
      """
      {"decision": "supplement", "reason": "Hồ sơ chưa đủ"}
      """
    Khi thời gian trôi tới "2026-03-02 09:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "supplement", "checked_documents": ["TP1"], "missing_documents": ["TP2"],
       "reason": "Thiếu bản sao căn cước công dân"}
      """
    Thì hồ sơ có trạng thái 5
    Và số lần yêu cầu bổ sung khi tiếp nhận là 1
    Và việc tiếp nhận được xếp loại "on_time"
    Khi thời gian trôi tới "2026-03-03 10:00"
    Và công dân hoàn thành bước "receipt_supplement" với dữ liệu:
      """
      {"supplemented_documents": ["TP2"]}
      """
    # Bổ sung lúc 10:00 thứ Ba 03/3, bàn tiếp nhận có 8 giờ làm việc mới: 10:00–11:30 (1,5 giờ),
    # 13:30–17:00 (5 giờ), thứ Tư 04/3 07:30–10:30 (8 giờ).
    Thì hồ sơ có trạng thái 1
    Và hạn tiếp nhận là "2026-03-04 10:30"
    Và cán bộ một cửa không được yêu cầu bổ sung lần nữa ở bước "receipt_check" vì "không được yêu cầu bổ sung lần thứ hai" với dữ liệu:
      """
      {"decision": "supplement", "missing_documents": ["TP1"], "reason": "Đơn đề nghị chưa ký"}
      """
    Và số lần yêu cầu bổ sung khi tiếp nhận là 1
    Khi cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    Thì nhật ký hồ sơ có các chuyển trạng thái "1→5, 5→1, 1→2, 2→4"
    Và hồ sơ không bị gắn cờ "repeat_supplement"
    Và dựng lại hồ sơ tại sự kiện cuối khớp với trạng thái hệ thống đang lưu

  Kịch bản: Thủ tục không cho phép thì Lãnh đạo phòng cũng không phê duyệt yêu cầu bổ sung lần thứ hai
    Cho thời điểm hiện tại là "2026-03-02 08:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Trịnh Văn Khoa"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "supplement", "missing_documents": ["TP2"], "reason": "Thiếu bản sao căn cước công dân"}
      """
    Thì lãnh đạo phòng không được phê duyệt yêu cầu bổ sung lần thứ hai vì "không cho phép yêu cầu bổ sung hồ sơ lần thứ hai"
    Và cán bộ một cửa không được phê duyệt yêu cầu bổ sung lần thứ hai vì "Chỉ Lãnh đạo phòng"
