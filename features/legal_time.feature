# language: vi
Tính năng: Thời hạn giải quyết đúng như văn bản pháp luật ghi
  Là Bộ phận một cửa của Sở Giáo dục và Đào tạo
  Tôi muốn ngày hẹn trả in trên giấy tiếp nhận tính đúng cách luật viết thời hạn:
  "trong ngày làm việc, nhận sau 15 giờ thì trả ngày làm việc tiếp theo", N giờ làm việc, N ngày làm việc, N ngày
  Để bản sao văn bằng nhận buổi sáng được trả ngay trong ngày và hồ sơ trả muộn bị xếp quá hạn
  (giờ làm việc 07:30–11:30, 13:30–17:00; lịch 2026: Tết 16–20/02, 30/4–1/5, nghỉ 31/8 đổi lấy làm bù thứ Bảy 22/8, Quốc khánh 1–2/9)

  Kịch bản: Bản sao văn bằng tiếp nhận trước 15 giờ được hẹn trả 17 giờ cùng ngày và trả trong ngày là đúng hạn
    Cho thời điểm hiện tại là "2026-03-02 09:50"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Nguyễn Văn An"
    Và thời gian trôi tới "2026-03-02 10:00"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # Thứ Hai 02/03/2026 10:00 < 15:00 → trong ngày: hết giờ làm việc 17:00 cùng ngày.
    Thì hạn trả kết quả là "2026-03-02 17:00"
    Khi thời gian trôi tới "2026-03-02 13:45"
    Và chuyên viên hoàn thành bước "verify_register" với dữ liệu:
      """
      {"found": true, "register_ref": "Sổ gốc 2015, số 1234", "copies": 1}
      """
    Và thời gian trôi tới "2026-03-02 16:30"
    Và lãnh đạo phòng hoàn thành bước "approve_copy" với dữ liệu:
      """
      {"approved": true}
      """
    # Có kết quả 16:30 ≤ 17:00 cùng ngày hẹn → đúng hạn (trước hạn chỉ khi xong ngày sớm hơn ngày hẹn).
    Thì hồ sơ có trạng thái 9
    Và hồ sơ được xếp loại "on_time"

  Kịch bản: Bản sao văn bằng chưa có kết quả khi hết giờ làm việc thì phải xin lỗi và là quá hạn
    Cho thời điểm hiện tại là "2026-03-02 10:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Trần Thị Bình"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    Thì hạn trả kết quả là "2026-03-02 17:00"
    # Sáng 03/03 đã quá hẹn 17:00 02/03: không được xử lý tiếp khi chưa có Phiếu xin lỗi (Mẫu 04).
    Khi thời gian trôi tới "2026-03-03 08:00"
    Thì chuyên viên không được tiếp tục xử lý khi chưa có phiếu xin lỗi
    Khi lãnh đạo phòng ban hành phiếu xin lỗi hẹn lại ngày "2026-03-03 11:00" với lý do "Sổ gốc lưu kho"
    Và chuyên viên hoàn thành bước "verify_register" với dữ liệu:
      """
      {"found": true, "register_ref": "Sổ gốc 2016, số 88", "copies": 1}
      """
    Và lãnh đạo phòng hoàn thành bước "approve_copy" với dữ liệu:
      """
      {"approved": true}
      """
    # Kết quả 08:00 03/03 > hẹn 17:00 02/03 → quá hạn dù đã có hẹn mới.
    Thì hồ sơ được xếp loại "late"

  Kịch bản: Bản sao văn bằng tiếp nhận sau 15 giờ được hẹn 17 giờ ngày làm việc tiếp theo
    Cho thời điểm hiện tại là "2026-03-02 15:20"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Lê Văn Cường"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # 15:20 ≥ 15:00 → ngày làm việc tiếp theo là thứ Ba 03/03 → 17:00 03/03.
    Thì hạn trả kết quả là "2026-03-03 17:00"

  Kịch bản: Bản sao văn bằng nhận chiều thứ Sáu trước Tết được hẹn sau kỳ nghỉ Tết
    Cho thời điểm hiện tại là "2026-02-13 16:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Phạm Thị Dung"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # 16:00 thứ Sáu 13/02 sau 15:00; 14–15/02 cuối tuần; 16/02 giao thừa, 17–20/02 mùng 1–4 Tết;
    # 21–22/02 cuối tuần → ngày làm việc tiếp theo là thứ Hai 23/02 → 17:00 23/02.
    Thì hạn trả kết quả là "2026-02-23 17:00"

  Kịch bản: Bản sao văn bằng nhận sau 15 giờ ngày 29/4 được hẹn sau kỳ nghỉ 30/4–1/5
    Cho thời điểm hiện tại là "2026-04-29 15:10"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Hoàng Văn Em"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # 15:10 thứ Tư 29/04 sau 15:00; 30/04 Chiến thắng, 01/05 Quốc tế Lao động, 02–03/05 cuối tuần
    # → thứ Hai 04/05, 17:00.
    Thì hạn trả kết quả là "2026-05-04 17:00"

  Kịch bản: Bản sao văn bằng nhận sau 15 giờ ngày 28/8 được hẹn sau kỳ nghỉ Quốc khánh
    Cho thời điểm hiện tại là "2026-08-28 16:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "diploma_copy" với người nộp "Đỗ Thị Giang"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2"]}
      """
    # 16:00 thứ Sáu 28/08 sau 15:00; 29–30/08 cuối tuần; 31/08 nghỉ (đổi lấy thứ Bảy 22/08 làm bù);
    # 01–02/09 Quốc khánh → thứ Năm 03/09, 17:00.
    Thì hạn trả kết quả là "2026-09-03 17:00"

  Kịch bản: Chuyển trường 40 giờ làm việc qua kỳ nghỉ 30/4–1/5
    Cho thời điểm hiện tại là "2026-04-29 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "student_transfer" với người nộp "Vũ Thị Lan"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3", "TP4"]}
      """
    # 29/04: 09:00–11:30 (2,5 giờ) + 13:30–17:00 (3,5) = 6 giờ; 30/04–03/05 nghỉ;
    # 04–07/05: 4 × 7,5 = 30 giờ (cộng 36); 08/05: 4 giờ 07:30–11:30 → 11:30 08/05.
    Thì hạn trả kết quả là "2026-05-08 11:30"

  Kịch bản: Thành lập trung tâm ngoại ngữ 15 ngày làm việc qua Tết
    Cho thời điểm hiện tại là "2026-02-12 09:00"
    Khi cán bộ một cửa tiếp nhận hồ sơ trực tiếp thủ tục "language_centre_establishment" với người nộp "Công ty TNHH Minh Khôi"
    Và cán bộ một cửa hoàn thành bước "receipt_check" với dữ liệu:
      """
      {"decision": "accept", "checked_documents": ["TP1", "TP2", "TP3"]}
      """
    # Các ngày làm việc sau 12/02: 13/02 (1); 16–20/02 Tết; 23–27/02 (2–6); 02–06/03 (7–11);
    # 09, 10, 11, 12/03 (12–15) → cùng giờ 09:00 ngày 12/03.
    Thì hạn trả kết quả là "2026-03-12 09:00"
